#!/usr/bin/env python3
"""Compressed against uncompressed replay when the disk, not the CPU, is the limit.

A replay from the page cache measures decompression against memcpy, which no codec wins; the
reason to compress is the replay that has to read the disk. On a VM the host caches the guest's
disk, so emptying the guest's page cache is not enough to make a replay wait for I/O. This script
caps the read bandwidth of the device that holds the store folder with a block-I/O cgroup
(cgroup v2 `io.max`, or v1 `blkio.throttle.read_bps_device`), then runs, in rounds, for each
codec:

    stream-tool bench replay --payload json --compression CODEC --cold-cache --json

inside it (the page cache is emptied before each replay pass, so every pass reads the disk
through the cap), and prints the medians and the ratio of each codec to `none`.

Needs root (cgroups, dropping the page cache). Usage:

    sudo python3 tools/replay-io-bound.py [--mbps 300] [--records 2000000] [--rounds 3]
        [--codecs none,zstd:1,zstd:3] [--stream-tool PATH] [--store DIR]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Failure(Exception):
    pass


def device_of(path):
    """major:minor of the whole disk that holds `path` (a cap on a partition is not allowed)."""
    st = os.stat(path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    sys_path = os.path.realpath(f"/sys/dev/block/{major}:{minor}")
    if os.path.exists(os.path.join(sys_path, "partition")):
        with open(os.path.join(os.path.dirname(sys_path), "dev")) as f:
            return f.read().strip()
    if not os.path.exists(sys_path):
        raise Failure(f"{path} is not on a block device ({major}:{minor}); put --store on a disk")
    return f"{major}:{minor}"


class ReadCap:
    """A cgroup whose processes read the device at most `mbps` MB/s; removed on exit."""

    def __init__(self, device, mbps):
        self.device, self.bytes_per_second = device, int(mbps * 1_000_000)
        v2 = "/sys/fs/cgroup/unified" if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers") else "/sys/fs/cgroup"
        if os.path.exists("/sys/fs/cgroup/blkio"):
            self.path = "/sys/fs/cgroup/blkio/streamstore-replay-io-bound"
            self.limit_file, self.limit = "blkio.throttle.read_bps_device", f"{device} {self.bytes_per_second}"
        elif os.path.exists(os.path.join(v2, "cgroup.controllers")):
            with open(os.path.join(v2, "cgroup.controllers")) as f:
                if "io" not in f.read().split():
                    raise Failure("the cgroup v2 hierarchy has no io controller")
            self.path = os.path.join(v2, "streamstore-replay-io-bound")
            self.limit_file, self.limit = "io.max", f"{device} rbps={self.bytes_per_second}"
        else:
            raise Failure("no block-I/O cgroup controller (blkio or io) is mounted")

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, self.limit_file), "w") as f:
            f.write(self.limit)
        return self

    def __exit__(self, *exc):
        try:
            os.rmdir(self.path)
        except OSError as error:
            print(f"note: could not remove {self.path}: {error}", file=sys.stderr)

    def enter_here(self):
        """Moves the calling process into the cgroup (a `preexec_fn` for the measured child)."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def run(self, command, timeout):
        done = subprocess.run(command, preexec_fn=self.enter_here, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise Failure(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def unavailable_reason():
    """Why a read cap cannot be made here, or None when it can (tools/peers/run.py asks)."""
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/sys/fs/cgroup/blkio") and not any(
            os.path.exists(os.path.join(v2, "cgroup.controllers")) for v2 in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")):
        return "no block-I/O cgroup controller"
    return None


def cap_for(path, mbps):
    """A ReadCap on the disk holding `path` (enter it with `with`)."""
    return ReadCap(device_of(path), mbps)


def build_tool():
    print("building stream-tool (release)", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "stream-tool"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, "stream-tool")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mbps", type=float, default=300, help="read cap in MB/s (default 300, a SATA SSD)")
    parser.add_argument("--records", type=int, default=2_000_000, help="JSON events per run (default 2,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs every codec once (default 3)")
    parser.add_argument("--codecs", default="none,zstd:1,zstd:3", help="comma-separated; the first is the base")
    parser.add_argument("--stream-tool", help="use this binary instead of building one")
    parser.add_argument("--store", help="parent folder of the benchmark stores (default: a temporary folder on the "
                                        "disk of this checkout)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise Failure("run as root: the script makes a cgroup and empties the page cache")
    tool = args.stream_tool or build_tool()
    parent = tempfile.mkdtemp(prefix="replay-io-bound-", dir=args.store or ROOT)
    codecs = args.codecs.split(",")
    results = {codec: [] for codec in codecs}
    try:
        device = device_of(parent)
        print(f"read cap {args.mbps:g} MB/s on device {device} ({parent})", file=sys.stderr)
        with ReadCap(device, args.mbps) as cap:
            for round_number in range(args.rounds):
                for codec in codecs:
                    store = os.path.join(parent, "store")
                    data = cap.run([tool, "bench", "replay", "--store", store, "--records", str(args.records),
                                    "--payload", "json", "--compression", codec, "--cold-cache", "--json"],
                                   timeout=1800)
                    shutil.rmtree(store, ignore_errors=True)
                    row = dict(stored=data["storedBytes"],
                               batch=data["batchLevel"]["recordsPerSecond"], record=data["recordLevel"]["recordsPerSecond"])
                    results[codec].append(row)
                    print(f"round {round_number + 1}/{args.rounds} {codec}: batch level {row['batch'] / 1e6:.2f} M/s, "
                          f"record level {row['record'] / 1e6:.2f} M/s", file=sys.stderr)
    finally:
        shutil.rmtree(parent, ignore_errors=True)

    def median(codec, key):
        return statistics.median(row[key] for row in results[codec])

    base = codecs[0]
    print(f"\nReplay of {args.records:,} JSON events read through a {args.mbps:g} MB/s cap, page cache emptied "
          f"before each pass; medians of {args.rounds} rounds.\n")
    print(f"| codec | on disk | smaller by | batch level records/s | ÷ {base} | record level records/s | ÷ {base} |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for codec in codecs:
        stored = median(codec, "stored")
        print(f"| {codec} | {stored / 1e6:,.1f} MB | {median(base, 'stored') / stored:.1f}x "
              f"| {median(codec, 'batch') / 1e6:.2f} M | {median(codec, 'batch') / median(base, 'batch'):.2f}x "
              f"| {median(codec, 'record') / 1e6:.2f} M | {median(codec, 'record') / median(base, 'record'):.2f}x |")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"replay-io-bound: {failure}", file=sys.stderr)
        sys.exit(1)
