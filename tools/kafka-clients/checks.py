"""The Kafka-client checks of `stream-tool serve`, with real, independent clients: kafka-python,
confluent-kafka (librdkafka) and kcat. Run by `make kafka-clients` (part of `make test`):

    python3 tools/kafka-clients/checks.py --tool .build/debug/stream-tool

Each check prints one line; the first failure stops the run with exit status 1.
"""
import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

RECORDS = 10_000
BASE_TIMESTAMP = 1_700_000_000_000


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def step(name):
    print("ok   " + name, flush=True)


def record(i):
    """Key, value, headers and timestamp of record i; 500 distinct keys."""
    return (b"key-%d" % (i % 500), b"value-%d" % i, [("seq", str(i).encode()), ("source", b"checks")], BASE_TIMESTAMP + i)


def produce_kafka_python(bootstrap, topic):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for i in range(RECORDS):
        key, value, headers, timestamp = record(i)
        producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=timestamp)
    producer.flush()
    producer.close()


def produce_confluent(bootstrap, topic, start=0, count=RECORDS):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "compression.type": "zstd", "linger.ms": 5, "acks": "all"})
    errors = []
    for i in range(start, start + count):
        key, value, headers, timestamp = record(i)
        producer.produce(topic, key=key, value=value, headers=headers, timestamp=timestamp,
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
        if i % 1000 == 0:
            producer.poll(0)
    check(producer.flush(60) == 0, "confluent-kafka could not deliver every record")
    check(not errors, "delivery errors: %s" % errors[:3])


def consume_group(bootstrap, topic, group, expected, late_joiner_after=None):
    """Two confluent-kafka members of `group` consume until `expected` records are seen; the
    second joins once the first has handled `late_joiner_after` records (a rebalance mid-stream).
    Commits synchronously after every record batch. Returns {seq: (partition, offset, key, headers, timestamp)}."""
    from confluent_kafka import Consumer, KafkaError, KafkaException
    seen = {}
    lock = threading.Lock()
    stop = threading.Event()
    first_progress = threading.Event()
    assignments = []

    def member(name):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                             "enable.auto.commit": False, "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                             "partition.assignment.strategy": "range"})
        consumer.subscribe([topic], on_assign=lambda c, parts: assignments.append((name, [p.partition for p in parts])))
        handled = 0
        while not stop.is_set():
            message = consumer.poll(0.2)
            if message is None:
                continue
            check(message.error() is None, "consumer error: %s" % message.error())
            headers = dict(message.headers() or [])
            seq = int(headers["seq"])
            with lock:
                seen[seq] = (message.partition(), message.offset(), message.key(), headers, message.timestamp()[1], message.value())
                if len(seen) >= expected:
                    stop.set()
            try:
                consumer.commit(message=message, asynchronous=False)
            except KafkaException as error:
                # A commit racing a rebalance is refused; the record is handled again by
                # whoever owns the partition next (at least once), which the checks allow.
                check(error.args[0].code() in (KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID),
                      "commit failed: %s" % error)
            handled += 1
            if late_joiner_after is not None and handled >= late_joiner_after:
                first_progress.set()
        consumer.close()

    threads = [threading.Thread(target=member, args=("a",))]
    threads[0].start()
    if late_joiner_after is not None:
        first_progress.wait(60)
    threads.append(threading.Thread(target=member, args=("b",)))
    threads[1].start()
    deadline = time.time() + 180
    while not stop.is_set() and time.time() < deadline:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(60)
    check(len(seen) >= expected, "the group handled %d of %d records" % (len(seen), expected))
    members = {name for name, _ in assignments}
    check(members == {"a", "b"}, "both members were assigned partitions: %s" % assignments)
    return seen


def check_records(seen, start, count, partitions):
    key_partition = {}
    for i in range(start, start + count):
        check(i in seen, "record %d was never consumed" % i)
        partition, _, key, headers, timestamp, value = seen[i]
        want_key, want_value, want_headers, want_timestamp = record(i)
        check(key == want_key and value == want_value, "record %d came back as %r=%r" % (i, key, value))
        check(headers == dict(want_headers), "record %d headers %r" % (i, headers))
        check(timestamp == want_timestamp, "record %d timestamp %d, produced %d" % (i, timestamp, want_timestamp))
        check(key_partition.setdefault(key, partition) == partition, "key %r is on two partitions" % key)
    check(set(key_partition.values()) <= set(range(partitions)), "partitions out of range")


def lag(tool, store, group):
    out = subprocess.run([tool, "--store", store, "groups", "lag", group, "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def send_raw(port, payload, close_after=True):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(payload)
        if close_after:
            try:
                raw.settimeout(2)
                return raw.recv(64)
            except (socket.timeout, ConnectionResetError):
                return b""
    return b""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--idle-connections", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the store folder")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kafka-clients-")
    store = os.path.join(folder, "store")
    server = Server(args.tool, store).start()
    try:
        run(args, server, store)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("all Kafka client checks passed")


def run(args, server, store):
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.partitioner import murmur2

    admin = KafkaAdminClient(bootstrap_servers=server.bootstrap)
    admin.create_topics([NewTopic("orders", num_partitions=4, replication_factor=1), NewTopic("events", num_partitions=3, replication_factor=1)])
    check({"orders", "events"} <= set(admin.list_topics()), "created topics are listed")
    admin.close()
    step("kafka-python creates topics (CreateTopics, Metadata)")

    produce_kafka_python(server.bootstrap, "orders")
    step("kafka-python produces %d keyed records with headers (acks=all)" % RECORDS)
    produce_confluent(server.bootstrap, "events")
    step("confluent-kafka produces %d records, enable.idempotence=true, compression.type=zstd" % RECORDS)

    seen = consume_group(server.bootstrap, "orders", "orders-readers", RECORDS, late_joiner_after=2000)
    check_records(seen, 0, RECORDS, 4)
    for i in range(RECORDS):
        key = seen[i][2]
        check(seen[i][0] == (murmur2(key) & 0x7fffffff) % 4, "record %d is not on kafka-python's murmur2 partition" % i)
    step("a group of 2 (the second joining mid-stream) consumes every kafka-python record: keys, headers, timestamps intact")

    seen = consume_group(server.bootstrap, "events", "events-readers", RECORDS)
    check_records(seen, 0, RECORDS, 3)
    step("a group of 2 consumes every idempotent zstd record from confluent-kafka")

    consumer = KafkaConsumer(bootstrap_servers=server.bootstrap)
    partitions = [TopicPartition("orders", p) for p in range(4)]
    wanted = BASE_TIMESTAMP + 7_000
    found = consumer.offsets_for_times({tp: wanted for tp in partitions})
    consumer.assign(partitions)
    for tp in partitions:
        check(found[tp] is not None and found[tp].timestamp >= wanted, "offsets_for_times(%r) = %r" % (tp, found[tp]))
        consumer.seek(tp, found[tp].offset)
    first = {}
    deadline = time.time() + 30
    while len(first) < 4 and time.time() < deadline:
        for tp, messages in consumer.poll(timeout_ms=500).items():
            if messages and tp not in first:
                first[tp] = messages[0]
    for tp in partitions:
        check(first[tp].timestamp >= wanted and first[tp].timestamp == found[tp].timestamp, "ListOffsets by timestamp lands on %r" % (first[tp],))
    earliest = consumer.beginning_offsets(partitions)
    latest = consumer.end_offsets(partitions)
    check(all(earliest[tp] == 0 for tp in partitions) and sum(latest.values()) == RECORDS, "earliest/latest offsets")
    consumer.close()
    step("ListOffsets: earliest, latest, and by timestamp")

    kcat_list = subprocess.run(["kcat", "-b", server.bootstrap, "-L"], capture_output=True, text=True, timeout=30)
    check(kcat_list.returncode == 0 and 'topic "orders" with 4 partitions' in kcat_list.stdout, "kcat -L:\n" + kcat_list.stdout + kcat_list.stderr)
    kcat_read = subprocess.run(["kcat", "-b", server.bootstrap, "-C", "-t", "events", "-o", "beginning", "-e", "-q", "-f", "%k %h\n"],
                               capture_output=True, text=True, timeout=60)
    check(kcat_read.returncode == 0 and len(kcat_read.stdout.splitlines()) == RECORDS, "kcat -C read %d lines" % len(kcat_read.stdout.splitlines()))
    step("kcat -L and kcat -C -o beginning -e")

    bad_frames = check_bad_frames(server, args.idle_connections)
    check_metrics(server, bad_frames)

    # Restart: committed offsets survive, the group resumes from them, and groups lag agrees.
    check(server.stop() == 0, "the server exits 0 on SIGTERM")
    report = lag(args.tool, store, "orders-readers")
    rows = [row for group in report["groups"] for topic in group["topics"] if topic["topic"] == "orders" for row in topic["partitions"]]
    check(len(rows) == 4 and all(row["committedOffset"] == row["logEndOffset"] and row["lagRecords"] == 0 for row in rows), "groups lag after the group: %s" % rows)
    step("stream-tool groups lag shows the Kafka group's commits, lag 0")
    server.start()
    produce_confluent(server.bootstrap, "orders", start=RECORDS, count=100)
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": server.bootstrap, "group.id": "orders-readers", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["orders"])
    resumed = []
    deadline = time.time() + 60
    while len(resumed) < 100 and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            resumed.append(int(dict(message.headers())["seq"]))
    consumer.commit(asynchronous=False)
    consumer.close()
    check(sorted(resumed) == list(range(RECORDS, RECORDS + 100)), "after a restart the group resumed with %d records (want exactly the 100 new)" % len(resumed))
    step("after a restart the group resumes from its committed offsets")


class SteadyClient:
    """A confluent-kafka producer (acks=all) and a consumer of its records that keep going in
    threads while the server is abused; afterwards every record produced must have been
    delivered and consumed, in order, none waiting longer than `MAX_STALL_SECONDS`."""
    MAX_STALL_SECONDS = 5.0

    def __init__(self, bootstrap, topic):
        from confluent_kafka import Consumer, Producer, TopicPartition
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "steady-unused", "enable.auto.commit": False})
        self.consumer.assign([TopicPartition(topic, 0, 0)])
        self.topic = topic
        self.produced = 0
        self.delivered = []
        self.errors = []
        self.consumed = []
        self.longest_wait = 0.0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._produce), threading.Thread(target=self._consume)]
        for thread in self.threads:
            thread.start()

    def _produce(self):
        while not self.stop.is_set():
            sent = time.monotonic()

            def delivered(err, msg, sent=sent):
                if err:
                    self.errors.append(err)
                else:
                    self.delivered.append(int(msg.value()))
                self.longest_wait = max(self.longest_wait, time.monotonic() - sent)
            self.producer.produce(self.topic, value=b"%d" % self.produced, on_delivery=delivered)
            self.produced += 1
            self.producer.poll(0.01)
        self.producer.flush(30)

    def _consume(self):
        last = time.monotonic()
        while not self.stop.is_set() or len(self.consumed) < len(self.delivered):
            message = self.consumer.poll(0.1)
            now = time.monotonic()
            if message is not None and message.error() is None:
                self.consumed.append(int(message.value()))
                last = now
            elif now - last > 30:
                break

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        self.consumer.close()
        check(not self.errors, "delivery errors while the server was abused: %s" % self.errors[:3])
        check(self.delivered == list(range(self.produced)), "%d of %d records delivered, in order" % (len(self.delivered), self.produced))
        check(self.consumed == self.delivered, "consumed %d of %d delivered records, in order" % (len(self.consumed), len(self.delivered)))
        check(self.longest_wait < self.MAX_STALL_SECONDS, "a produce waited %.1f s while the server was abused" % self.longest_wait)
        return self.produced


def open_idle_connections(port, wanted):
    """Up to `wanted` connections that send nothing; fewer when this process may not open more
    files. Returns the sockets and how many of them the server closed at once (over its limit)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
        soft = min(needed, hard)
    idle = []
    for _ in range(min(wanted, soft - 256)):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    return idle


def refused_connections(idle, wait_seconds=10):
    """How many of `idle` the server closed (over its connection limit): those read EOF."""
    import selectors
    selector = selectors.DefaultSelector()
    for connection in idle:
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    closed = set()
    deadline = time.time() + wait_seconds
    quiet_since = time.time()
    while time.time() < deadline and time.time() - quiet_since < 1.0:
        for key, _ in selector.select(timeout=0.2):
            try:
                data = key.fileobj.recv(16)
            except OSError:
                data = b""
            if not data:
                closed.add(key.fileobj)
                selector.unregister(key.fileobj)
                quiet_since = time.time()
    selector.close()
    return len(closed)


def check_bad_frames(server, idle_connections):
    """Garbage, truncated frames, a 2 GiB length prefix, an unknown API and `idle_connections`
    idle connections (more than the server's limit), while a producer and a consumer keep
    going: only the bad connections close, connections over the limit are refused with a log
    line, and the steady client loses nothing and never stalls."""
    from kafka import KafkaAdminClient, KafkaConsumer
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=server.bootstrap)
    admin.create_topics([NewTopic("steady", num_partitions=1, replication_factor=1)])
    admin.close()
    steady = SteadyClient(server.bootstrap, "steady")
    started = time.time()
    garbage = os.urandom(4096)
    send_raw(server.port, garbage)
    send_raw(server.port, struct.pack(">i", 100) + b"\x00\x12\x00")
    send_raw(server.port, struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 64)
    send_raw(server.port, struct.pack(">i", 12) + struct.pack(">hhi", 18, 0, 7) + b"\x7f\xff")
    send_raw(server.port, struct.pack(">i", 10) + struct.pack(">hhih", 999, 0, 7, -1))
    idle = open_idle_connections(server.port, idle_connections)
    refused = refused_connections(idle)
    check(server.alive(), "the server survived garbage, truncated and 2 GiB-prefix frames")
    produced = steady.finish()
    for connection in idle:
        connection.close()
    with open(server.log_path) as log:
        refusal_lines = [line for line in log if "Refused" in line and "Kafka connection" in line]
    if refused:
        check(refusal_lines, "%d connections over the limit were closed without a log line" % refused)
    consumer = KafkaConsumer(bootstrap_servers=server.bootstrap)
    check("orders" in consumer.topics(), "a new client works once the idle connections are gone")
    consumer.close()
    # Closed as bad frames for certain: the 2 GiB prefix, the unknown API, and the garbage when
    # its first four bytes are no frame length the server takes (outside 0...100 MiB; 1 in 41
    # are inside, and then it waits for the rest). The truncated frames, whose clients hang up
    # mid-frame, may count too, depending on when the hang-up reaches the server. So: at least the
    # certain ones, at most all five.
    garbage_length = struct.unpack(">i", garbage[:4])[0]
    bad_frames = (2 if 0 <= garbage_length <= 100 << 20 else 3, 5)
    step("garbage, truncated and 2 GiB-length frames close only their connection; %d idle connections (%d over the limit, refused with "
         "%d log lines) while %d records were produced (acks=all) and consumed, the slowest in %.2f s (%.0f s)" % (
             len(idle), refused, len(refusal_lines), produced, steady.longest_wait, time.time() - started))
    return bad_frames


def check_metrics(server, bad_frames):
    """`serve --metrics-port`: requests by API and error code, bytes, connections (between
    `bad_frames`[0] and [1] closed for a bad frame), latency."""
    samples = server.metrics()

    def total(name, **labels):
        wanted = ['%s="%s"' % item for item in labels.items()]
        return sum(value for (sample, text), value in samples.items() if sample == name and all(label in text for label in wanted))
    check(total("streamstore_kafka_requests_total", api="produce", error="none") > 0, "no produce requests counted")
    check(total("streamstore_kafka_requests_total", api="fetch") > 0, "no fetch requests counted")
    check(total("streamstore_kafka_requests_total", api="apiVersions") > 0, "no ApiVersions requests counted")
    check(total("streamstore_kafka_received_bytes_total") > 2 * RECORDS * 10, "received bytes")
    check(total("streamstore_kafka_sent_bytes_total") > 2 * RECORDS * 10, "sent bytes")
    check(total("streamstore_kafka_connections_total", outcome="accepted") > 0, "accepted connections")
    closed = total("streamstore_kafka_connections_total", outcome="bad_frame")
    check(bad_frames[0] <= closed <= bad_frames[1], "%d connections closed for bad frames, expected %d to %d" % (closed, bad_frames[0], bad_frames[1]))
    check(total("streamstore_kafka_request_duration_seconds_count", api="produce") > 0, "produce latency")
    check(total("streamstore_kafka_request_duration_seconds_count", api="fetch") > 0, "fetch latency")
    step("serve --metrics-port: requests by API and error, bytes in and out, connections, produce and fetch latency")


if __name__ == "__main__":
    main()
