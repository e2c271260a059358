"""Bounded soak of dist/edge_relay.wasm under `wasmtime serve`, loopback only.

A fixed number of client threads send requests for SOAK_SECONDS (default 60). Each request
carries a sequence number; the upstream fails a fraction of them on purpose (by that number:
status 500, invalid JSON, or a hang-up), so every answer has one exact expected status and body.
Prints the counts, wrong answers, traps seen on the server's stderr, and the server's RSS over
time. Usage: bench/soak (it builds what it needs).
"""
import http.client
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "8"))


class FlakyUpstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        n = json.loads(body)["n"]
        if n % 20 == 0:
            self.reply(500, b'{"error":"planned"}')
        elif n % 20 == 1:
            self.reply(200, b'{"echo": ')
        elif n % 20 == 2:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.reply(200, b'{"echo":%d,"pad":"%s"}' % (n, b"x" * 512))

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connection attempts under load, and a dropped SYN is retried
    # after 1 s and 3 s: long enough to turn into a relay timeout that is the upstream's doing.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # resets by the relay's pooled connections are expected here


def expected(n):
    if n % 20 == 0:
        return 502, "upstream_status"
    if n % 20 == 1:
        return 502, "upstream_invalid_json"
    if n % 20 == 2:
        return 502, "upstream_unreachable"
    return 200, '{"echo":%d}' % n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    upstream = QuietServer(("127.0.0.1", 0), FlakyUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    log = open(os.path.join(ROOT, "target", "soak-serve.log"), "w+")
    server = subprocess.Popen(
        ["wasmtime", "serve", "--addr", f"127.0.0.1:{port}", "-Scli",
         "--env", f"RELAY_UPSTREAM_URL=http://127.0.0.1:{upstream.server_port}/api",
         "--env", "RELAY_FIELDS=echo=/echo", "--env", "RELAY_TIMEOUT_MS=2000",
         os.path.join(ROOT, "dist", "edge_relay.wasm")],
        stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    counts, wrong, lock = {}, [], threading.Lock()
    sequence = iter(range(10**9))
    stop_at = time.monotonic() + SECONDS

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            with lock:
                n = next(sequence)
            try:
                connection.request("POST", "/", body=json.dumps({"n": n}), headers={"content-type": "application/json"})
                response = connection.getresponse()
                status, body = response.status, response.read().decode()
            except (OSError, http.client.HTTPException) as error:
                status, body = 0, repr(error)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            want_status, want = expected(n)
            ok = status == want_status and (body == want if status == 200 else json.loads(body)["error"]["code"] == want)
            with lock:
                key = want if status != 200 else "ok"
                counts[key] = counts.get(key, 0) + 1
                if not ok:
                    wrong.append((n, status, body[:200]))

    rss = []
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss.append((time.monotonic() - started, rss_kib(server.pid)))
        time.sleep(1)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    server.terminate()
    server.wait()
    log.seek(0)
    traps = sum(1 for line in log if "trap" in line or "wasm backtrace" in line)

    total = sum(counts.values())
    first = [k for t, k in rss if t <= 10]
    last = [k for t, k in rss if t >= elapsed - 10]
    print(f"soak: {SECONDS:.0f} s, {CLIENTS} keep-alive clients, loopback; wasmtime serve of dist/edge_relay.wasm")
    print(f"requests: {total} ({total / elapsed:.0f}/s)")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    print(f"wrong answers: {len(wrong)}")
    for item in wrong[:5]:
        print(f"  {item}")
    print(f"traps on the server's stderr: {traps}")
    print(f"server RSS: first 10 s median {statistics.median(first) / 1024:.1f} MiB, "
          f"last 10 s median {statistics.median(last) / 1024:.1f} MiB, max {max(k for _, k in rss) / 1024:.1f} MiB")
    sys.exit(1 if wrong or traps else 0)


if __name__ == "__main__":
    main()
