"""bench/run: edge-relay against the peers a user would pick instead.

Contenders under `wasmtime serve`: edge-relay (dist/edge_relay.wasm), a wstd relay, and a spin-sdk
7 (WASIp3) relay, each twice: with a fresh instance per request (wasmtime's default for WASIp2;
--max-instance-reuse-count 1 for WASIp3) and with instances reused for up to 128 requests
(wasmtime's default for WASIp3; --max-instance-reuse-count 128 for WASIp2).
The native tokio + reqwest + serde_json peers are commands: they appear in the size, cold-start
and 10 MB rows. One loopback upstream (bench/peers/upstream, Rust, keep-alive) answers everything;
its own rate is measured too, to show it is not the bottleneck.

One measurement on this shared 2-core machine is not a result, so everything is measured in
BENCH_ROUNDS rounds (default 3, at least 3), interleaved: each round measures every contender once
(odd rounds in the listed order, even rounds in reverse, so a drift within a round does not always
favour the same contender), and a drift of the machine between rounds hits every contender alike.
For each row: the median over rounds per contender, and for edge-relay against each peer the median
of the per-round ratios (edge-relay's value divided by the peer's, same round) with their min-max.
A sentence per row says where edge-relay is ahead (every round's ratio on the better side of 1),
behind (every round's on the worse side) or level ("no clear difference": the spread straddles 1).
Prints markdown on stdout, progress on stderr, and writes docs/bench.svg (BENCH_SVG to write
elsewhere).
"""
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
# Cold starts are single events, noisy on a shared machine: each round takes the median of these
# (twice as many for the natives, which start in about 50 ms).
COLD_STARTS = int(os.environ.get("BENCH_COLD_STARTS", "5"))
# Set by `BENCH_NO_BUILD=1 bench/run`: measure the artifacts already built, skip contenders missing.
NO_BUILD = os.environ.get("BENCH_NO_BUILD") == "1"
SVG = os.environ.get("BENCH_SVG", os.path.join(ROOT, "docs", "bench.svg"))
BODY = '{"query":"caf\\u00e9","limit":3}'
FIELDS = "id=/data/id,name=/data/attributes/name,status=/meta/status"
TEN_MB = 10 * 1024 * 1024
BIG_REQUESTS = 5  # 10 MB answers per contender and round (15 over 3 rounds)
MODES = {"fresh": "a fresh instance per request", "reused": "instances reused (up to 128 requests)"}
EDGE = "edge-relay"

# Rows compared between contenders: key, title, which way is better, how a value prints, the noun
# a ratio is "of" in a sentence.
METRICS = [
    ("rps", "requests/s", "higher", lambda v: f"{v:,.0f}", "requests/s"),
    ("p50", "p50 latency (ms)", "lower", lambda v: f"{v:.2f}", "p50"),
    ("p99", "p99 latency (ms)", "lower", lambda v: f"{v:.2f}", "p99"),
    ("cold", "cold start to first answer (ms)", "lower", lambda v: f"{v * 1000:.0f}", "cold start"),
    ("big_time", "10 MB upstream answer: time (ms)", "lower", lambda v: f"{v * 1000:.1f}", "time"),
    ("rss", "server peak RSS under load (MiB)", "lower", lambda v: f"{v / 1024:.1f}", "peak RSS"),
    ("big_rss", "10 MB answer: peak RSS (MiB)", "lower", lambda v: f"{v / 1024:.1f}", "peak RSS"),
]
NATIVE_METRICS = ("cold", "big_time", "big_rss")


def progress(text):
    print(text, file=sys.stderr, flush=True)


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
    core = os.path.join(core_dir, "wasm32-wasip2", "release", target_name)
    if not NO_BUILD:
        env = dict(os.environ, RUSTFLAGS="-Clink-arg=--skip-wit-component")
        subprocess.run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip2", "--target-dir", core_dir], cwd=crate, env=env, check=True)
    elif not os.path.exists(core):
        return os.path.getsize(raw), None
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

    def first_answer(self, timeout=60):
        """Seconds from process start to the first correct answer (cold start, compile cache off)."""
        while True:
            if self.process.poll() is not None or time.perf_counter() - self.started > timeout:
                sys.exit(f"{self.process.args[-1]} gave no correct answer within {timeout} s")
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
    fd, script = tempfile.mkstemp(prefix="edge-relay-bench-", suffix=".lua")
    with os.fdopen(fd, "w") as f:
        if body is None:
            f.write('wrk.method = "GET"\n')
        else:
            f.write('wrk.method = "POST"\nwrk.body = \'%s\'\nwrk.headers["content-type"] = "application/json"\n' % body.replace("\\", "\\\\"))
        for name, value in headers:
            f.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", script, f"http://127.0.0.1:{port}{path}"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)

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


def measure_wasm(c, small_port, big_port):
    """One round of one wasm contender: cold starts, the load, the 10 MB answer."""
    colds = []
    for _ in range(COLD_STARTS):
        served = Served(c["component"], ["-C", "cache=n", *c["flags"]], small_port)
        colds.append(served.first_answer())
        served.stop()
    served = Served(c["component"], c["flags"], small_port)
    served.first_answer()
    p50, p99, rps, errors = wrk(served.port)
    rss = vm(served.process.pid, "VmHWM")
    served.stop()
    # edge-relay's default limit is 8 MiB: raise it for this row, as a user would.
    big = Served(c["component"], c["flags"], big_port, ["RELAY_MAX_RESPONSE_BYTES=16777216"])
    big_times, failure = [], None
    wait_for(big.port)
    for _ in range(BIG_REQUESTS):
        started = time.perf_counter()
        try:
            status, body = post(big.port, timeout=120)
            if b'"status":"ok"' not in body:
                failure = failure or f"{status}: {body[:80]!r}"
        except OSError as error:
            failure = failure or f"{error} {getattr(error, 'read', lambda: b'')()[:120]!r}"
        big_times.append(time.perf_counter() - started)
    big_rss = vm(big.process.pid, "VmHWM")
    big.stop()
    return {"cold": statistics.median(colds), "p50": p50, "p99": p99, "rps": rps, "errors": errors, "rss": rss,
            "big_time": None if failure else statistics.median(big_times), "big_rss": big_rss, "big_failure": failure}


def measure_native(c, small_port, big_port):
    cold = statistics.median(native_run(c["binary"], small_port)[0] for _ in range(2 * COLD_STARTS))
    big = [native_run(c["binary"], big_port) for _ in range(BIG_REQUESTS)]
    return {"cold": cold, "big_time": statistics.median(t for t, _ in big), "big_rss": max(r for _, r in big), "big_failure": None}


def measure_upstream(small_port):
    keepalive = wrk(small_port)[2]
    # What the relays do: hosts open a new upstream connection for every request.
    fresh = wrk(small_port, headers=[("connection", "close")])[2]
    return {"keepalive_rps": keepalive, "fresh_rps": fresh}


def measure_breakdown(edge, small_port):
    """Where edge-relay's time goes: the same server answering without the upstream exchange."""
    served = Served(edge, [], small_port)
    served.first_answer()
    healthz = wrk(served.port, path="/healthz", body=None)[2]
    _, _, refused, refused_count = wrk(served.port, body='{"unfinished":')
    served.stop()
    return {"healthz_rps": healthz, "refused_rps": refused, "refused_non2xx": refused_count}


def contenders():
    edge = os.path.join(ROOT, "dist", "edge_relay.wasm")
    wstd = os.path.join(PEERS, "wstd", "target", "wasm32-wasip2", "release", "peer_wstd.wasm")
    spin = os.path.join(PEERS, "spin", "target", "wasm32-wasip2", "release", "peer_spin.wasm")
    p3 = ["-Sp3", "-Wcomponent-model-async"]
    reuse = ["--max-instance-reuse-count", "128"]
    fresh = ["--max-instance-reuse-count", "1"]
    wasm = [
        # (name, mode, component, wasmtime flags, peer crate to size)
        (EDGE, "fresh", edge, [], None),
        ("wstd + serde_json", "fresh", wstd, [], ("wstd", "peer_wstd.wasm")),
        ("spin-sdk 7 (WASIp3) + serde_json", "fresh", spin, p3 + fresh, ("spin", "peer_spin.wasm")),
        (EDGE, "reused", edge, reuse, None),
        ("wstd + serde_json", "reused", wstd, reuse, ("wstd", "peer_wstd.wasm")),
        ("spin-sdk 7 (WASIp3) + serde_json", "reused", spin, p3, ("spin", "peer_spin.wasm")),
    ]
    natives = [("native tokio + reqwest + serde_json", "release"), ("native, seed's size flags", "seed-size")]
    found, missing = [], []
    for name, mode, component, flags, crate in wasm:
        c = {"name": name, "mode": mode, "label": f"{name}, {MODES[mode]}", "kind": "wasm",
             "artifact": component, "component": component, "flags": flags, "crate": crate}
        (found if os.path.exists(component) else missing).append(c)
    for name, profile in natives:
        binary = os.path.join(PEERS, "native", "target", profile, "peer-native")
        c = {"name": name, "mode": None, "label": f"{name} (one command run)", "kind": "native", "artifact": binary, "binary": binary}
        (found if os.path.exists(binary) else missing).append(c)
    return edge, found, missing


def median_of(values):
    return statistics.median(values) if values and None not in values else None


def ratio_text(ratios):
    """`1.05x (0.96-1.12)`: the median of the per-round ratios and their min-max."""
    def f(r):
        return f"{r:.3f}" if abs(r - 1) < 0.005 else f"{r:.2f}"
    return f"{f(statistics.median(ratios))}x ({f(min(ratios))}-{f(max(ratios))})"


def spread_text(values, fmt):
    """A median with the min-max over rounds: `4,218 (4,101-4,330)`."""
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def verdict(ratios, better):
    if min(ratios) > 1:
        return "ahead" if better == "higher" else "behind"
    if max(ratios) < 1:
        return "behind" if better == "higher" else "ahead"
    return "no clear difference"


def compare(rows, results):
    """Per compared row: edge-relay's median, and per peer its median, ratios, verdict or failure."""
    compared = []
    for mode, mode_text in MODES.items():
        edge = next((c for c in rows if c["name"] == EDGE and c["mode"] == mode), None)
        if edge is None:
            continue
        for key, title, better, fmt, noun in METRICS:
            peers = [c for c in rows if c is not edge and (c["mode"] == mode or (c["kind"] == "native" and key in NATIVE_METRICS))]
            if not peers:
                continue
            ours = [r[key] for r in results[edge["label"]]]
            if key.startswith("big") and any(r.get("big_failure") for r in results[edge["label"]]):
                ours = [None]
            cells = []
            for peer in peers:
                theirs = [r[key] for r in results[peer["label"]]]
                cell = {"peer": peer, "median": median_of(theirs)}
                # A relay that fails the 10 MB answer has no 10 MB figure to compare, its RSS included.
                if key.startswith("big") and any(r.get("big_failure") for r in results[peer["label"]]):
                    theirs = [None]
                if None in theirs:
                    failures = [r["big_failure"] for r in results[peer["label"]] if r.get("big_failure")]
                    cell["failed"] = f"failed in {len(failures)} of {ROUNDS} rounds ({failures[0]})"
                elif None not in ours:
                    cell["ratios"] = [a / b for a, b in zip(ours, theirs)]
                    cell["verdict"] = verdict(cell["ratios"], better)
                cells.append(cell)
            edge_failures = [r["big_failure"] for r in results[edge["label"]] if r.get("big_failure")] if None in ours else []
            compared.append({"key": key, "title": f"{title}, {mode_text}", "better": better, "fmt": fmt, "noun": noun,
                             "edge_median": median_of(ours), "cells": cells,
                             "edge_failed": f"failed in {len(edge_failures)} of {ROUNDS} rounds ({edge_failures[0]})" if edge_failures else None,
                             "errors": {c["label"]: sum(r.get("errors", 0) for r in results[c["label"]]) for c in [edge, *peers]}})
    return compared


def listing(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(row):
    """Where edge-relay is ahead in this row, where it is not, in one sentence."""
    head = f"{row['title']}, {row['better']} is better: "
    if row["edge_failed"]:
        return head + f"edge-relay {row['edge_failed']}, so no comparison."
    groups = {"ahead": [], "no clear difference": [], "behind": []}
    failed = []
    for cell in row["cells"]:
        name = cell["peer"]["name"]
        if "failed" in cell:
            failed.append(name)
        else:
            median, spread = ratio_text(cell["ratios"]).split(" ", 1)
            groups[cell["verdict"]].append(f"{name} ({median} its {row['noun']}, {spread[1:-1]})")
    clauses = []
    if groups["ahead"]:
        clauses.append("edge-relay is ahead of " + listing(groups["ahead"]) + " in every round")
    if groups["behind"]:
        clauses.append("edge-relay is behind " + listing(groups["behind"]) + " in every round")
    if groups["no clear difference"]:
        clauses.append("no clear difference from " + listing(groups["no clear difference"]) + ": the spread takes in 1")
    if failed:
        clauses.append(listing(failed) + " failed this row")
    text = head + "; ".join(clauses) + "."
    if row["key"] in ("rps", "p50", "p99") and any(row["errors"].values()):
        text += " Non-2xx answers over the rounds: " + ", ".join(f"{k} {v:,}" for k, v in row["errors"].items() if v) + " (errors, not relaying, were measured)."
    return text


def reproduce_command():
    settings = [("BENCH_ROUNDS", ROUNDS), ("BENCH_SECONDS", SECONDS), ("BENCH_CONNECTIONS", CONNECTIONS), ("BENCH_COLD_STARTS", COLD_STARTS)]
    if NO_BUILD:
        settings.append(("BENCH_NO_BUILD", 1))
    if "BENCH_SVG" in os.environ:
        settings.append(("BENCH_SVG", SVG))
    command = " ".join(f"{k}={v}" for k, v in settings) + " bench/run"
    git = ["git", "-C", ROOT]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    return command, commit + (" with uncommitted changes" if dirty else "")


def write_svg(wasm_rows, results):
    bars = [(c["label"], [r["rps"] for r in results[c["label"]]]) for c in wasm_rows]
    width, bar_h = 900, 28
    top = max(max(v) for _, v in bars)
    scale = (width - 580) / top
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{56 + bar_h * len(bars)}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20">requests per second under wasmtime serve: median of {ROUNDS} interleaved bench/run rounds (bar), min-max (line)</text>']
    for i, (label, values) in enumerate(bars):
        y = 30 + i * bar_h
        w, lo, hi = (int(scale * v) for v in (statistics.median(values), min(values), max(values)))
        mid = y + bar_h // 2
        svg.append(f'<text x="10" y="{y + 17}">{label}</text><rect x="480" y="{y + 4}" width="{w}" height="{bar_h - 8}" fill="#3b7dd8"/>'
                   f'<line x1="{480 + lo}" y1="{mid}" x2="{480 + hi}" y2="{mid}" stroke="#222" stroke-width="1.5"/>'
                   f'<line x1="{480 + lo}" y1="{mid - 5}" x2="{480 + lo}" y2="{mid + 5}" stroke="#222"/>'
                   f'<line x1="{480 + hi}" y1="{mid - 5}" x2="{480 + hi}" y2="{mid + 5}" stroke="#222"/>'
                   f'<text x="{485 + max(w, hi)}" y="{y + 17}">{statistics.median(values):,.0f}</text>')
    command, commit = reproduce_command()
    svg.append(f'<text x="10" y="{44 + bar_h * len(bars)}" fill="#555">{command} (commit {commit})</text>')
    svg.append("</svg>")
    with open(SVG, "w") as f:
        f.write("\n".join(svg) + "\n")


def main():
    if ROUNDS < 3:
        sys.exit(f"BENCH_ROUNDS={ROUNDS}: at least 3 rounds, or the spread of the ratios means nothing")
    edge, rows, missing = contenders()
    if missing and not NO_BUILD:
        sys.exit("missing: " + ", ".join(c["artifact"] for c in missing) + " (bench/run builds them)")
    if not any(c["name"] == EDGE for c in rows):
        sys.exit(f"missing: {edge}")
    sizes = {}
    for c in rows:
        if c["kind"] == "wasm" and c["component"] not in sizes:
            sizes[c["component"]] = wasm_opt_size(*c["crate"]) if c["crate"] else (os.path.getsize(c["component"]),) * 2
    upstreams, small_port, big_port = start_upstreams()
    # One round: the upstream's own rate, every contender once, edge-relay without the upstream.
    items = [("upstream", "the upstream alone", lambda: measure_upstream(small_port))]
    for c in rows:
        measure = measure_wasm if c["kind"] == "wasm" else measure_native
        items.append((c["label"], c["label"], lambda c=c, measure=measure: measure(c, small_port, big_port)))
    items.append(("breakdown", "edge-relay without the upstream exchange", lambda: measure_breakdown(edge, small_port)))
    results = {key: [] for key, _, _ in items}
    started = time.monotonic()
    try:
        for r in range(ROUNDS):
            for key, text, measure in (items if r % 2 == 0 else items[::-1]):
                progress(f"round {r + 1}/{ROUNDS}, {time.monotonic() - started:.0f} s: {text}")
                results[key].append(measure())
    finally:
        for u in upstreams:
            u.kill()
    elapsed = time.monotonic() - started

    wasmtime_version = subprocess.run(["wasmtime", "--version"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    up = results["upstream"]
    count = lambda v: f"{v:,.0f}"  # noqa: E731
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; {platform.platform()}; {wasmtime_version}; {rustc}; "
          f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s against 127.0.0.1; {ROUNDS} rounds, interleaved. The upstream alone serves "
          f"{spread_text([u['keepalive_rps'] for u in up], count)} requests/s (median, min-max over rounds) on kept-alive connections and "
          f"{spread_text([u['fresh_rps'] for u in up], count)} with a new connection per request, as the relays use it.\n")
    if missing:
        print("Not measured (BENCH_NO_BUILD=1 and not built): " + "; ".join(f"{c['label']} ({c['artifact']})" for c in missing) + ".\n")

    print(f"Median of {ROUNDS} rounds per contender:\n")
    print(f"| contender | size raw (bytes) | after wasm-opt | cold start to first answer (ms, median of {COLD_STARTS} per round; natives {2 * COLD_STARTS}) | p50 (ms) | p99 (ms) | requests/s | non-2xx (all rounds) | server peak RSS (MiB) | 10 MB upstream: time (ms) | 10 MB: server peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    fmt = {key: f for key, _, _, f, _ in METRICS}
    for c in rows:
        res = results[c["label"]]
        med = {key: median_of([r[key] for r in res]) for key in fmt if key in res[0]}
        failures = [r["big_failure"] for r in res if r["big_failure"]]
        big_text = fmt["big_time"](med["big_time"]) if not failures else f"failed in {len(failures)} of {len(res)} rounds ({failures[0]})"
        if c["kind"] == "wasm":
            raw, opt = sizes[c["component"]]
            opt_text = f"{opt:,}" if opt else "n/a"
            print(f"| {c['label']} | {raw:,} | {opt_text} | {fmt['cold'](med['cold'])} | {fmt['p50'](med['p50'])} | {fmt['p99'](med['p99'])} | "
                  f"{fmt['rps'](med['rps'])} | {sum(r['errors'] for r in res)} | {fmt['rss'](med['rss'])} | {big_text} | {fmt['big_rss'](med['big_rss'])} |")
        else:
            print(f"| {c['label']} | {os.path.getsize(c['binary']):,} | n/a | {fmt['cold'](med['cold'])} | | | | | | {big_text} | {fmt['big_rss'](med['big_rss'])} |")
    peer_sizes = [sizes[c["component"]] for c in rows if c["kind"] == "wasm" and c["name"] != EDGE]
    if peer_sizes and all(opt for _, opt in peer_sizes):
        print(f"\nedge-relay is {os.path.getsize(edge) / min(opt for _, opt in peer_sizes):.2f}x the size of the smallest optimised peer.")
    elif peer_sizes:
        print(f"\nedge-relay is {os.path.getsize(edge) / min(raw for raw, _ in peer_sizes):.2f}x the size of the smallest peer as built "
              "(not optimised: BENCH_NO_BUILD=1 and no core module built for wasm-opt).")

    print("\nRequests/s per round (round 1 in the listed order, round 2 reversed, and so on):\n")
    print("| contender | " + " | ".join(f"round {r + 1}" for r in range(ROUNDS)) + " |")
    print("|---|" + "---|" * ROUNDS)
    for c in rows:
        if c["kind"] == "wasm":
            print(f"| {c['label']} | " + " | ".join(f"{r['rps']:,.0f}" for r in results[c["label"]]) + " |")

    compared = compare(rows, results)
    peers = []
    for row in compared:
        for cell in row["cells"]:
            if cell["peer"]["name"] not in peers:
                peers.append(cell["peer"]["name"])
    print(f"\nedge-relay against each peer: the peer's median, then the median of the {ROUNDS} per-round ratios "
          f"edge-relay / peer with their min-max (above 1 is more; whether more is better is in the second column):\n")
    print("| row | better | edge-relay | " + " | ".join(f"{p}: value, ratio" for p in peers) + " |")
    print("|---|---|---|" + "---|" * len(peers))
    for row in compared:
        by_peer = {cell["peer"]["name"]: cell for cell in row["cells"]}
        cells = []
        for p in peers:
            cell = by_peer.get(p)
            if cell is None:
                cells.append("")
            elif "failed" in cell:
                cells.append("failed")
            elif "ratios" in cell:
                cells.append(f"{row['fmt'](cell['median'])}: {ratio_text(cell['ratios'])}")
            else:
                cells.append(row["fmt"](cell["median"]))
        ours = "failed" if row["edge_failed"] else row["fmt"](row["edge_median"])
        print(f"| {row['title']} | {row['better']} | {ours} | " + " | ".join(cells) + " |")

    bd = results["breakdown"]
    edge_fresh = next((c for c in rows if c["name"] == EDGE and c["mode"] == "fresh"), None)
    exchange = f"; {spread_text([r['rps'] for r in results[edge_fresh['label']]], count)} with the upstream exchange" if edge_fresh else ""
    print(f"\nWhere edge-relay's requests go, same rounds (median, min-max): {spread_text([b['healthz_rps'] for b in bd], count)} requests/s "
          f"for `GET /healthz` (a fresh instance, no configuration, no upstream); {spread_text([b['refused_rps'] for b in bd], count)} "
          f"for a body refused with 400 ({sum(b['refused_non2xx'] for b in bd):,} non-2xx over the rounds: configuration read, body read "
          f"and checked, no upstream){exchange}.")

    print(f"\nWhere edge-relay is ahead and where it is not (ahead or behind: the ratio is on that side of 1 in all {ROUNDS} rounds; "
          f"no clear difference: the spread takes in 1):\n")
    for row in compared:
        print(f"- {sentence(row)}")

    command, commit = reproduce_command()
    print(f"\nReproduce: `{command}` (commit {commit}). The {ROUNDS} rounds took {elapsed / 60:.1f} min "
          f"({elapsed / ROUNDS:.0f} s a round), builds not counted.")
    wasm_rows = [c for c in rows if c["kind"] == "wasm"]
    write_svg(wasm_rows, results)


if __name__ == "__main__":
    main()
