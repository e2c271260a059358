"""Three upstreams, each answering after DELAY_MS (default 50), behind one relay that fetches them
at once: the relay's answer times (p50, p99) against the sum and the max of the upstreams'.
Also one upstream alone behind the same relay, for what the relay itself adds."""
import http.server
import os
import socketserver
import statistics
import subprocess
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DELAY = int(os.environ.get("DELAY_MS", "50")) / 1000
REQUESTS = int(os.environ.get("REQUESTS", "300"))


class Slow(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(DELAY)
        body = b'{"items":[{"id":1,"total":2.50},{"id":2,"total":1.0e+1}],"name":"x"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def upstream():
    server = Server(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def relay(port, env):
    args = ["wasmtime", "serve", "--addr", f"127.0.0.1:{port}", "-Scli"]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    child = subprocess.Popen(args + [os.path.join(ROOT, "dist", "edge_relay.wasm")], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return child
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the relay did not start")


def times(port, path):
    for _ in range(10):
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
        samples.append((time.perf_counter() - started) * 1000)
        assert answer[:1] in (b"{", b"["), answer
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    ports = [upstream() for _ in range(3)]
    names = ["profile", "orders", "notes"]
    env = {"RELAY_UPSTREAMS": ",".join(names), "RELAY_SHAPE": "{a: $profile.name, b: [$orders.items[] | .total], c: ($notes.items | length)}"}
    for name, port in zip(names, ports):
        env[f"RELAY_{name.upper()}_URL"] = f"http://127.0.0.1:{port}/{name}"
    merged = relay(18291, env)
    single = relay(18292, {"RELAY_UPSTREAM_URL": f"http://127.0.0.1:{ports[0]}/one", "RELAY_SHAPE": "[.items[] | .total]"})
    try:
        fan = times(18291, "/")
        one = times(18292, "/")
    finally:
        merged.kill()
        single.kill()
    delay = DELAY * 1000
    print(f"Three upstreams answering after {delay:.0f} ms each; {REQUESTS} sequential requests; wasmtime serve; bench/fanout\n")
    print("| relay | p50 ms | p99 ms | p50 vs the slowest upstream | p50 vs the three in turn |")
    print("|---|---:|---:|---:|---:|")
    print(f"| three upstreams merged (`RELAY_UPSTREAMS`) | {fan[0]:.1f} | {fan[1]:.1f} | +{fan[0] - delay:.1f} ms | {fan[0] / (3 * delay):.2f}x of {3 * delay:.0f} ms |")
    print(f"| one upstream (`RELAY_UPSTREAM_URL`) | {one[0]:.1f} | {one[1]:.1f} | +{one[0] - delay:.1f} ms | |")


if __name__ == "__main__":
    main()
