"""One invocation of the command vs the seed's native stack: wall time and peak RSS.

Every contender POSTs the same body to the same loopback upstream (scripts/demo_upstream.py)
and prints the same three fields; each is run RUNS times in turn and the medians are reported,
with ratios taken within this one run. Usage: bench/cli-vs-native (it builds what it needs).
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", "30"))
PORT = int(os.environ.get("BENCH_UPSTREAM_PORT", "18181"))
URL = f"http://127.0.0.1:{PORT}/api"
BODY = '{"query":"caf\\u00e9","limit":3}'
CLI = os.path.join(ROOT, "dist", "edge_relay_cli.wasm")
NATIVE = os.path.join(ROOT, "bench", "peers", "native", "target")
EXPECTED = '{"id":12345678901234567890123456789,"name":"Caf\\u00e9 \\"Zo\\u00eb\\"","status":"ok"}'


def measure(command):
    """Median wall seconds and median peak RSS (KiB) of `command` over RUNS runs."""
    walls, rss = [], []
    for _ in range(RUNS):
        with tempfile.NamedTemporaryFile("r") as report:
            started = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name] + command,
                                  capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"{command[0]} failed: {done.stderr}")
            rss.append(int(report.read().strip().splitlines()[-1]))
    return statistics.median(walls), statistics.median(rss), done.stdout.strip()


def main():
    cwasm = os.path.join(ROOT, "target", "edge_relay_cli.cwasm")
    subprocess.run(["wasmtime", "compile", CLI, "-o", cwasm], check=True)
    wasm_fields = ["--field", "id=/data/id", "--field", "name=/data/attributes/name", "--field", "status=/meta/status"]
    native_fields = ["id=/data/id", "name=/data/attributes/name", "status=/meta/status"]
    contenders = [
        ("native tokio + reqwest + serde_json, release", [os.path.join(NATIVE, "release", "peer-native"), URL, BODY] + native_fields),
        ("native, seed's size flags (z, LTO, abort, strip)", [os.path.join(NATIVE, "seed-size", "peer-native"), URL, BODY] + native_fields),
        ("edge_relay_cli.wasm, `wasmtime run` (cache off: compiles each run)", ["wasmtime", "run", "-C", "cache=n", "-S", "http", CLI, "--data", BODY] + wasm_fields + [URL]),
        ("edge_relay_cli.wasm, `wasmtime run` (default compile cache)", ["wasmtime", "run", "-S", "http", CLI, "--data", BODY] + wasm_fields + [URL]),
        ("edge_relay_cli.wasm precompiled, `wasmtime run --allow-precompiled`", ["wasmtime", "run", "--allow-precompiled", "-S", "http", cwasm, "--data", BODY] + wasm_fields + [URL]),
    ]
    upstream = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "demo_upstream.py"), str(PORT)])
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(URL, timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        results = []
        for label, command in contenders:
            wall, rss, output = measure(command)
            if json.loads(output) != json.loads(EXPECTED):
                sys.exit(f"{label} printed {output!r}, expected {EXPECTED!r}")
            artifact = command[0] if command[0] != "wasmtime" else next(a for a in command if a in (CLI, cwasm))
            results.append((label, os.path.getsize(artifact), wall, rss, output == EXPECTED))
    finally:
        upstream.kill()

    wasmtime_version = subprocess.run(["wasmtime", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; {wasmtime_version}; "
          f"median of {RUNS} runs each; upstream scripts/demo_upstream.py on 127.0.0.1.\n")
    base_wall, base_rss = results[0][2], results[0][3]
    print("| contender | artifact bytes | wall time (ms) | peak RSS (MiB) | wall vs native release | RSS vs native release | values byte-exact |")
    print("|---|---|---|---|---|---|---|")
    for label, size, wall, rss, exact in results:
        print(f"| {label} | {size:,} | {wall * 1000:.1f} | {rss / 1024:.1f} | {wall / base_wall:.2f}x | {rss / base_rss:.2f}x | {'yes' if exact else 'no (re-encoded)'} |")


if __name__ == "__main__":
    main()
