#!/usr/bin/env python3
"""Medians of Store.trace on a store filled by `trace-bench fill` (README, "Measured").

    swift build -c release            # in tools/trace-bench
    .build/release/trace-bench fill /tmp/t10m 10000000 67108864 on
    python3 measure.py /tmp/t10m 5

For filters on and off: a new process per trace (Store.open, then the first trace), with the
page cache warm and with the store's pages evicted after the open; then repeated traces in one
open store. RUNS flows, each traced in its own process.
"""
import json, os, statistics, subprocess, sys

BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".build", "release", "trace-bench")
store, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
flows = [f"order-{(i * 611_953) % 2_500_000}" for i in range(1, runs + 1)]


def trace(filters, repeat, ids, evict=False):
    environment = dict(os.environ, TRACE_BENCH_EVICT="1" if evict else "0")
    result = subprocess.run([BINARY, "trace", store, filters, str(repeat), *ids], capture_output=True, text=True, check=True, env=environment)
    return json.loads(result.stdout)


def median(values):
    return round(statistics.median(values), 1)


for filters in ["on", "off"]:
    for cache in ["page cache", "from disk"]:
        opens, firsts, scanned, read = [], [], [], []
        for flow in flows:
            result = trace(filters, 1, [flow], evict=cache == "from disk")
            first = result["traces"][0]
            assert first["records"] == 4 and first["problems"] == 0, first
            opens.append(result["openMs"])
            firsts.append(first["ms"])
            scanned.append(first["scanned"])
            read.append(first["bytesRead"])
        print(f"filters {filters}, {cache:10}: open {median(opens)} ms, first trace {median(firsts)} ms "
              f"(runs {[round(x) for x in firsts]}), segments scanned {median(scanned)}, read {median(read) / 1e6:.0f} MB")
    repeated = [t["ms"] for t in trace(filters, 3, flows)["traces"] if t["run"] > 0]
    print(f"filters {filters}, repeated in one open store: {median(repeated)} ms (min {min(repeated):.1f}, max {max(repeated):.1f}, n={len(repeated)})")
