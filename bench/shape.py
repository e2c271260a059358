"""The command's --shape vs jq, gojq and jaq: one generated document, four programs, wall time
and peak RSS (GNU time's %M) of each run, the answers checked equal as JSON values.

The document is an array of BENCH_OBJECTS objects (default 400,000: about 95 MB), each with an
id, a kind ("a" or "b"), a name, tags, a nested object and a price, written once under target/.
Each program runs in RUNS rounds (default 1), each round running every contender once, odd
rounds in the listed order and even ones reversed, so that a drift of this shared machine (it
can double a run's time from one minute to the next) meets every contender alike; the table
shows the medians and the ratios of the medians to the command's, all from this one run. The
command is precompiled
(`wasmtime compile`), as a deployment caches it, and gets --dir for the file alone.
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBJECTS = int(os.environ.get("BENCH_OBJECTS", "400000"))
RUNS = int(os.environ.get("RUNS", "1"))
# Issue 12's three, then one that holds the document whole (a container's members counted: it
# was quadratic before session 7, 115 s on this document).
PROGRAMS = [".[0].id", "[.[] | {id, name}]", '[.[] | select(.kind == "a") | .id]', "length"]


def document(path):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    with open(path, "w") as out:
        out.write("[")
        for i in range(OBJECTS):
            if i:
                out.write(",")
            out.write(json.dumps({
                "id": i, "kind": "a" if i % 3 == 0 else "b", "name": f"item number {i}",
                "tags": ["alpha", "beta", "gamma"][: i % 4],
                "owner": {"id": f"u{i % 977}", "name": "Zo\u00eb", "since": "2024-05-0%d" % (i % 9 + 1)},
                "price": round(i * 0.37, 2), "stock": i % 50, "active": i % 5 != 0,
                "description": "A generated thing, described at some length to give each object its weight.",
            }, ensure_ascii=False))
        out.write("]")


def measure(command):
    """One run: wall seconds, peak RSS in KB, standard output."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name] + command, capture_output=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{command[0]} failed: {done.stderr.decode(errors='replace')[:500]}")
        return wall, int(report.read().strip().splitlines()[-1]), done.stdout


def main():
    data = os.path.join(ROOT, "target", "bench-shape")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(data, f"doc-{OBJECTS}.json")
    document(path)
    cwasm = os.path.join(ROOT, "target", "edge_relay_cli.cwasm")
    subprocess.run(["wasmtime", "compile", os.path.join(ROOT, "dist", "edge_relay_cli.wasm"), "-o", cwasm], check=True)
    name = os.path.basename(path)
    contenders = [("edge-relay --shape", lambda p: ["wasmtime", "run", "--allow-precompiled", "-S", "http", "--dir", f"{data}::/data", cwasm,
                                                    "--shape", p, "--input", f"/data/{name}"])]
    for tool in ["jq", "gojq", "jaq"]:
        if shutil.which(tool):
            contenders.append((version(tool), lambda p, tool=tool: [tool, "-c", p, path]))
    size = os.path.getsize(path) / 1e6
    print(f"Document: {OBJECTS:,} objects, {size:.1f} MB. {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {RUNS} round(s), contenders alternated, medians. Command: bench/shape\n")
    print("| program | tool | wall s | peak RSS MB | time vs edge-relay | RSS vs edge-relay |")
    print("|---|---|---:|---:|---:|---:|")
    for program in PROGRAMS:
        runs = {label: [] for label, _ in contenders}
        for turn in range(RUNS):
            order = contenders if turn % 2 == 0 else contenders[::-1]
            for label, command in order:
                runs[label].append(measure(command(program)))
        rows = []
        for label, _ in contenders:
            walls, rss, out = zip(*runs[label])
            answer = [json.loads(line) for line in out[-1].decode().splitlines() if line.strip()]
            rows.append((label, statistics.median(walls), statistics.median(rss) / 1024, answer))
        ours = rows[0]
        cell = program.replace("|", "\\|")
        for label, wall, rss, answer in rows:
            # jq 1.6 rounds numbers to doubles: the answers compare as Python reads them.
            if answer != ours[3]:
                sys.exit(f"{label} answers {program} differently")
            print(f"| `{cell}` | {label} | {wall:.2f} | {rss:.0f} | {wall / ours[1]:.1f}x | {rss / ours[2]:.1f}x |")


def version(tool):
    done = subprocess.run([tool, "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else tool


if __name__ == "__main__":
    main()
