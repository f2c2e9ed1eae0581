"""What TLS and SASL cost `stream-tool serve`, measured with confluent-kafka (librdkafka) in one
run: produce and consume rates of 100-byte records over PLAINTEXT, SASL_PLAINTEXT with
SCRAM-SHA-512, and SASL_SSL with SCRAM-SHA-512, each against its own server on a fresh store,
rounds interleaved; then the time of a whole login (a new connection's metadata request) for
each mechanism. Not part of `make test`:

    swift build -c release --product stream-tool
    python3 tools/kafka-clients/security_cost.py --tool .build/release/stream-tool [--records N] [--rounds R]

Prints the median of the rounds per setting and the ratio to PLAINTEXT.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security import PASSWORD, make_certificate, tool_run  # noqa: E402
from server import Server  # noqa: E402


def produce_rate(settings, topic, records):
    from confluent_kafka import Producer
    producer = Producer(dict(settings, **{"linger.ms": 5, "acks": "all", "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000}))
    value = b"x" * 100
    started = time.time()
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value=value)
                break
            except BufferError:
                producer.poll(0.01)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError("records left unsent")
    return records / (time.time() - started)


def consume_rate(settings, topic, records):
    from confluent_kafka import Consumer
    consumer = Consumer(dict(settings, **{"group.id": "cost-%s-%f" % (topic, time.time()), "auto.offset.reset": "earliest",
                                          "enable.auto.commit": False}))
    consumer.subscribe([topic])
    seen = 0
    started = None
    while seen < records:
        batch = consumer.consume(10000, 1.0)
        if batch and started is None:
            started = time.time()
        seen += sum(1 for message in batch if message.error() is None)
    elapsed = time.time() - started
    consumer.close()
    return seen / elapsed


def login_seconds(settings):
    from confluent_kafka.admin import AdminClient
    started = time.time()
    AdminClient(settings).list_topics(timeout=10)
    return time.time() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kafka-security-cost-")
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args, folder):
    cert, key = make_certificate(folder)
    users = os.path.join(folder, "users.txt")
    tool_run(args.tool, ["users", "add", "--file", users, "alice"], PASSWORD)
    sasl = {"sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "alice", "sasl.password": PASSWORD}
    setups = [
        ("PLAINTEXT", [], {}),
        ("SASL_PLAINTEXT SCRAM-SHA-512", ["--users", users], dict(sasl, **{"security.protocol": "SASL_PLAINTEXT"})),
        ("SASL_SSL SCRAM-SHA-512", ["--users", users, "--tls-cert", cert, "--tls-key", key],
         dict(sasl, **{"security.protocol": "SASL_SSL", "ssl.ca.location": cert})),
    ]
    servers = {}
    try:
        for name, flags, _ in setups:
            servers[name] = Server(args.tool, os.path.join(folder, "store-%d" % len(servers)), flags).start()
        produced = {name: [] for name, _, _ in setups}
        consumed = {name: [] for name, _, _ in setups}
        for round_number in range(args.rounds):
            for name, _, settings in setups:
                client = dict(settings, **{"bootstrap.servers": servers[name].bootstrap})
                topic = "cost-%d" % round_number
                produced[name].append(produce_rate(client, topic, args.records))
                consumed[name].append(consume_rate(client, topic, args.records))
        base_produce = statistics.median(produced["PLAINTEXT"])
        base_consume = statistics.median(consumed["PLAINTEXT"])
        print("%d records of 100 B, acks=all, linger 5 ms; median of %d rounds" % (args.records, args.rounds))
        for name, _, _ in setups:
            p, c = statistics.median(produced[name]), statistics.median(consumed[name])
            print("%-30s produce %9.0f records/s (%.2fx)   consume %9.0f records/s (%.2fx)" % (name, p, p / base_produce, c, c / base_consume))
        tls = servers["SASL_SSL SCRAM-SHA-512"]
        for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]:
            settings = {"bootstrap.servers": tls.bootstrap, "security.protocol": "SASL_SSL", "ssl.ca.location": cert,
                        "sasl.mechanism": mechanism, "sasl.username": "alice", "sasl.password": PASSWORD}
            times = [login_seconds(settings) for _ in range(10)]
            print("login over TLS with %-14s median %.1f ms of 10 (connect, TLS, SASL, metadata)" % (mechanism, statistics.median(times) * 1000))
        plain = {"bootstrap.servers": servers["PLAINTEXT"].bootstrap}
        times = [login_seconds(plain) for _ in range(10)]
        print("PLAINTEXT connect and metadata     median %.1f ms of 10" % (statistics.median(times) * 1000))
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
