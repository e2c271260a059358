"""Linear memory per instance: the smallest `-W max-memory-size` at which each relay still answers
the bench request correctly under `wasmtime serve` (binary search, 64 KiB steps), for the demo
document and for a 10 MB upstream answer. Run by bench/memory after bench/run has built the peers.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import PEERS, ROOT, Served, post, start_upstreams, wait_for  # noqa: E402

PAGE = 65536


def answers(component, flags, upstream_port, limit, extra_env):
    served = Served(component, [*flags, "-W", f"max-memory-size={limit}"], upstream_port, extra_env)
    try:
        if not wait_for(served.port, served.process):
            return False  # wasmtime refuses to serve at all under this limit
        try:
            status, body = post(served.port, timeout=60)
            return status == 200 and b'"status":"ok"' in body
        except OSError:
            return False
    finally:
        served.stop()


def smallest(component, flags, upstream_port, extra_env=()):
    low, high = 1, 2048  # pages: 64 KiB .. 128 MiB
    if not answers(component, flags, upstream_port, high * PAGE, extra_env):
        return None
    while low < high:
        middle = (low + high) // 2
        if answers(component, flags, upstream_port, middle * PAGE, extra_env):
            high = middle
        else:
            low = middle + 1
    return high * PAGE


def main():
    upstreams, small, big = start_upstreams()
    contenders = [
        ("edge-relay", os.path.join(ROOT, "dist", "edge_relay.wasm"), []),
        ("wstd + serde_json", os.path.join(PEERS, "wstd", "target", "wasm32-wasip2", "release", "peer_wstd.wasm"), []),
        ("spin-sdk 7 (WASIp3) + serde_json", os.path.join(PEERS, "spin", "target", "wasm32-wasip2", "release", "peer_spin.wasm"),
         ["-Sp3", "-Wcomponent-model-async"]),
    ]
    print("| contender | linear memory needed, demo answer (KiB) | linear memory needed, 10 MB answer (KiB) |")
    print("|---|---|---|")
    try:
        for label, component, flags in contenders:
            demo = smallest(component, flags, small)
            big_answer = smallest(component, flags, big, ["RELAY_MAX_RESPONSE_BYTES=16777216"])
            text = lambda v: f"{v // 1024:,}" if v else "fails at 128 MiB"
            print(f"| {label} | {text(demo)} | {text(big_answer)} |")
    finally:
        for u in upstreams:
            u.kill()


if __name__ == "__main__":
    main()
