"""bench/run: edge-relay against the peers a user would pick instead, in one run.

Contenders under `wasmtime serve`: edge-relay (dist/edge_relay.wasm), a wstd relay, and a spin-sdk
7 (WASIp3) relay, each twice: with a fresh instance per request (wasmtime's default for WASIp2;
--max-instance-reuse-count 1 for WASIp3) and with instances reused for up to 128 requests
(wasmtime's default for WASIp3; --max-instance-reuse-count 128 for WASIp2). Ratios compare
edge-relay with the best peer in the same mode.
The native tokio + reqwest + serde_json peers are commands: they appear in the size, cold-start
and 10 MB rows. One loopback upstream (bench/peers/upstream, Rust, keep-alive) answers everything;
its own rate is measured first to show it is not the bottleneck. Prints one markdown table and
writes docs/bench.svg.
"""
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers")
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
BODY = '{"query":"caf\\u00e9","limit":3}'
FIELDS = "id=/data/id,name=/data/attributes/name,status=/meta/status"
TEN_MB = 10 * 1024 * 1024
# Cold starts are single events, noisy on a shared machine: the table shows the median of these.
COLD_STARTS = 5
MODES = {"fresh": "a fresh instance per request", "reused": "instances reused (up to 128 requests)"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process=None, timeout=30):
    """True once `port` accepts connections; False if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.005)
    sys.exit(f"nothing listens on {port}")


def start_upstreams():
    """The bench upstream twice, listening: one with the demo document, one padded to 10 MB."""
    binary = os.path.join(PEERS, "upstream", "target", "release", "bench-upstream")
    small_port, big_port = free_port(), free_port()
    processes = [subprocess.Popen([binary, str(small_port)]), subprocess.Popen([binary, str(big_port), str(TEN_MB)])]
    wait_for(small_port)
    wait_for(big_port)
    return processes, small_port, big_port


def post(port, timeout=60):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=BODY.encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def vm(pid, key):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wasm_opt_size(component_crate, target_name):
    """Raw component size and the size after the same wasm-opt pipeline edge-relay uses."""
    crate = os.path.join(PEERS, component_crate)
    raw = os.path.join(crate, "target", "wasm32-wasip2", "release", target_name)
    core_dir = os.path.join(crate, "target", "core")
    env = dict(os.environ, RUSTFLAGS="-Clink-arg=--skip-wit-component")
    subprocess.run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip2", "--target-dir", core_dir], cwd=crate, env=env, check=True)
    core = os.path.join(core_dir, "wasm32-wasip2", "release", target_name)
    with tempfile.TemporaryDirectory() as tmp:
        opt, comp, stripped = (os.path.join(tmp, n) for n in ("o.wasm", "c.wasm", "s.wasm"))
        try:
            subprocess.run(["wasm-opt", "-Oz", "--converge", "--all-features", "--strip-debug", "--strip-producers", core, "-o", opt], check=True, capture_output=True)
            subprocess.run(["wasm-tools", "component", "new", opt, "-o", comp], check=True, capture_output=True)
            subprocess.run(["wasm-tools", "strip", "--all", comp, "-o", stripped], check=True, capture_output=True)
            return os.path.getsize(raw), os.path.getsize(stripped)
        except subprocess.CalledProcessError:
            return os.path.getsize(raw), None


class Served:
    def __init__(self, component, flags, upstream_port, extra_env=()):
        self.port = free_port()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            ["wasmtime", "serve", "--addr", f"127.0.0.1:{self.port}", "-Scli", *flags,
             "--env", f"RELAY_UPSTREAM_URL=http://127.0.0.1:{upstream_port}/api",
             "--env", f"RELAY_FIELDS={FIELDS}", *[a for kv in extra_env for a in ("--env", kv)], component],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def first_answer(self):
        """Seconds from process start to the first correct answer (cold start, compile cache off)."""
        while True:
            try:
                status, body = post(self.port, timeout=10)
                if status == 200 and b'"status":"ok"' in body:
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.002)

    def stop(self):
        self.process.terminate()
        self.process.wait()


def wrk(port, path="/", body=BODY, headers=()):
    """POSTs `body` (GETs when it is None) for SECONDS over CONNECTIONS connections."""
    script = os.path.join(tempfile.gettempdir(), "edge-relay-bench.lua")
    with open(script, "w") as f:
        if body is None:
            f.write('wrk.method = "GET"\n')
        else:
            f.write('wrk.method = "POST"\nwrk.body = \'%s\'\nwrk.headers["content-type"] = "application/json"\n' % body.replace("\\", "\\\\"))
        for name, value in headers:
            f.write(f'wrk.headers["{name}"] = "{value}"\n')
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", script, f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return ms("50%"), ms("99%"), rps, errors


def native_run(binary, upstream_port):
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, binary, f"http://127.0.0.1:{upstream_port}/api", BODY,
                        "id=/data/id", "name=/data/attributes/name", "status=/meta/status"], check=True, capture_output=True)
        return time.perf_counter() - started, int(report.read().strip().splitlines()[-1])


def main():
    upstreams, small_port, big_port = start_upstreams()
    try:
        _, _, upstream_rps, _ = wrk(small_port)
        # What the relays do: hosts open a new upstream connection for every request.
        _, _, upstream_fresh_rps, _ = wrk(small_port, headers=[("connection", "close")])
        edge = os.path.join(ROOT, "dist", "edge_relay.wasm")
        wstd = os.path.join(PEERS, "wstd", "target", "wasm32-wasip2", "release", "peer_wstd.wasm")
        spin = os.path.join(PEERS, "spin", "target", "wasm32-wasip2", "release", "peer_spin.wasm")
        p3 = ["-Sp3", "-Wcomponent-model-async"]
        reuse = ["--max-instance-reuse-count", "128"]
        fresh = ["--max-instance-reuse-count", "1"]
        # (label, mode, component, wasmtime flags, peer crate to size)
        wasm = [
            ("edge-relay", "fresh", edge, [], None),
            ("wstd + serde_json", "fresh", wstd, [], ("wstd", "peer_wstd.wasm")),
            ("spin-sdk 7 (WASIp3) + serde_json", "fresh", spin, p3 + fresh, ("spin", "peer_spin.wasm")),
            ("edge-relay", "reused", edge, reuse, None),
            ("wstd + serde_json", "reused", wstd, reuse, ("wstd", "peer_wstd.wasm")),
            ("spin-sdk 7 (WASIp3) + serde_json", "reused", spin, p3, ("spin", "peer_spin.wasm")),
        ]
        rows = []
        sizes = {}
        for label, mode, component, flags, crate in wasm:
            if component not in sizes:
                sizes[component] = wasm_opt_size(*crate) if crate else (os.path.getsize(component),) * 2
            raw, opt = sizes[component]
            colds = []
            for _ in range(COLD_STARTS):
                served = Served(component, ["-C", "cache=n", *flags], small_port)
                colds.append(served.first_answer())
                served.stop()
            cold = statistics.median(colds)
            served = Served(component, flags, small_port)
            served.first_answer()
            p50, p99, rps, errors = wrk(served.port)
            rss = vm(served.process.pid, "VmHWM")
            served.stop()
            # edge-relay's default limit is 8 MiB: raise it for this row, as a user would.
            big = Served(component, flags, big_port, ["RELAY_MAX_RESPONSE_BYTES=16777216"])
            big_times = []
            wait_for(big.port)
            for _ in range(3):
                started = time.perf_counter()
                try:
                    status, body = post(big.port, timeout=120)
                    if b'"status":"ok"' not in body:
                        status = f"{status}: {body[:80]!r}"
                except OSError as error:
                    status, body = f"{error} {getattr(error, 'read', lambda: b'')()[:120]!r}", b""
                big_times.append(time.perf_counter() - started)
            big_rss = vm(big.process.pid, "VmHWM")
            big.stop()
            rows.append((f"{label}, {MODES[mode]}", mode, raw, opt, cold, p50, p99, rps, errors, rss, statistics.median(big_times), big_rss, status))
        # Where edge-relay's time goes: the same server answering without the upstream exchange.
        served = Served(edge, [], small_port)
        served.first_answer()
        _, _, healthz_rps, _ = wrk(served.port, path="/healthz", body=None)
        _, _, refused_rps, refused = wrk(served.port, body='{"unfinished":')
        served.stop()
        natives = []
        for label, path in [("native tokio + reqwest + serde_json", "release"), ("native, seed's size flags", "seed-size")]:
            binary = os.path.join(PEERS, "native", "target", path, "peer-native")
            cold = statistics.median(native_run(binary, small_port)[0] for _ in range(10))
            big = [native_run(binary, big_port) for _ in range(3)]
            natives.append((label, os.path.getsize(binary), cold, statistics.median(t for t, _ in big), max(r for _, r in big)))
    finally:
        for u in upstreams:
            u.kill()

    wasmtime_version = subprocess.run(["wasmtime", "--version"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; {platform.platform()}; {wasmtime_version}; {rustc}; "
          f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s against 127.0.0.1. The upstream alone serves {upstream_rps:,.0f} requests/s "
          f"on kept-alive connections and {upstream_fresh_rps:,.0f} with a new connection per request, as the relays use it.\n")
    print(f"| contender | size raw (bytes) | after wasm-opt | cold start to first answer (ms, median of {COLD_STARTS}) | p50 (ms) | p99 (ms) | requests/s | non-2xx | server peak RSS (MiB) | 10 MB upstream: time (ms) | 10 MB: server peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, _, raw, opt, cold, p50, p99, rps, errors, rss, big_t, big_rss, status in rows:
        opt_text = f"{opt:,}" if opt else "n/a"
        big_text = f"{big_t * 1000:.0f}" if status == 200 else f"failed ({status})"
        print(f"| {label} | {raw:,} | {opt_text} | {cold * 1000:.0f} | {p50:.2f} | {p99:.2f} | {rps:,.0f} | {errors} | {rss / 1024:.1f} | {big_text} | {big_rss / 1024:.1f} |")
    for label, size, cold, big_t, big_rss in natives:
        print(f"| {label} (one command run) | {size:,} | n/a | {cold * 1000:.0f} | | | | | | {big_t * 1000:.0f} | {big_rss / 1024:.1f} |")
    smallest_peer = min(r[3] or r[2] for r in rows if not r[0].startswith("edge-relay"))
    print(f"\nedge-relay is {rows[0][2] / smallest_peer:.2f}x the size of the smallest optimised peer.")
    for mode, text in MODES.items():
        ours = next(r for r in rows if r[1] == mode and r[0].startswith("edge-relay"))
        best = max((r for r in rows if r[1] == mode and not r[0].startswith("edge-relay")), key=lambda r: r[7])
        print(f"{text}: edge-relay {ours[7]:,.0f} requests/s, p50 {ours[5]:.2f} ms; the best peer ({best[0]}) "
              f"{best[7]:,.0f} requests/s, p50 {best[5]:.2f} ms: {ours[7] / best[7]:.2f}x the requests per second.")
    print(f"\nWhere edge-relay's requests go, same run: {healthz_rps:,.0f} requests/s for `GET /healthz` (a fresh instance, "
          f"no configuration, no upstream); {refused_rps:,.0f} for a body refused with 400 ({refused} non-2xx: configuration "
          f"read, body read and checked, no upstream); {rows[0][7]:,.0f} with the upstream exchange.")

    bars = [(r[0], r[7]) for r in rows]
    width, bar_h = 900, 28
    top = max(v for _, v in bars)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{40 + bar_h * len(bars)}" font-family="sans-serif" font-size="12">',
           '<text x="10" y="20">requests per second under wasmtime serve (one bench/run)</text>']
    for i, (label, value) in enumerate(bars):
        y = 30 + i * bar_h
        w = int((width - 560) * value / top)
        svg.append(f'<text x="10" y="{y + 17}">{label}</text><rect x="480" y="{y + 4}" width="{w}" height="{bar_h - 8}" fill="#3b7dd8"/>'
                   f'<text x="{485 + w}" y="{y + 17}">{value:,.0f}</text>')
    svg.append("</svg>")
    with open(os.path.join(ROOT, "docs", "bench.svg"), "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
