"""Captures the Kafka requests real clients send, for the fuzz seeds and the decoder tests:

    python3 tools/kafka-clients/capture.py --tool .build/debug/stream-tool \
        --out Tests/StreamStoreKafkaTests/ClientRequests

Runs `stream-tool serve` behind a recording proxy (the server advertises the proxy, so every
connection of every client goes through it), drives kafka-python, confluent-kafka (librdkafka)
and kcat through topic creation, produce (plain, idempotent zstd), a consumer group, offsets
and ListOffsets, and writes the first request of each (client, API, version) to
`<out>/<client>-<api key>-v<version>.bin`: the frame after its length prefix, as the broker
reads it. Produce requests keep their record batches, so the seeds carry real client batches.
"""
import argparse
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


class RecordingProxy:
    """Forwards every connection to the server, recording the request frames clients send."""

    def __init__(self):
        self.target_port = None
        self.client = "none"
        self.frames = {}
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            try:
                outbound = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                inbound.close()
                continue
            client = self.client
            threading.Thread(target=self._requests, args=(inbound, outbound, client), daemon=True).start()
            threading.Thread(target=self._pipe, args=(outbound, inbound), daemon=True).start()

    @staticmethod
    def _read(sock, count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _requests(self, inbound, outbound, client):
        try:
            while True:
                prefix = self._read(inbound, 4)
                if prefix is None:
                    break
                frame = self._read(inbound, struct.unpack(">i", prefix)[0])
                if frame is None:
                    break
                key, version = struct.unpack(">hh", frame[:4])
                with self.lock:
                    self.frames.setdefault((client, key, version), frame)
                outbound.sendall(prefix + frame)
        except OSError:
            pass
        finally:
            for sock in (inbound, outbound):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def kafka_python(bootstrap):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic("orders", num_partitions=2, replication_factor=1, topic_configs={"retention.ms": "86400000"})])
    admin.list_topics()
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for i in range(20):
        producer.send("orders", key=b"key-%d" % (i % 5), value=b"value-%d" % i, headers=[("seq", str(i).encode())])
    producer.flush()
    producer.close()
    consumer = KafkaConsumer("orders", bootstrap_servers=bootstrap, group_id="py-readers", auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    seen = 0
    for _ in consumer:
        seen += 1
        if seen == 20:
            break
    consumer.commit()
    partitions = [TopicPartition("orders", 0), TopicPartition("orders", 1)]
    consumer.offsets_for_times({tp: 0 for tp in partitions})
    consumer.beginning_offsets(partitions)
    consumer.close()


def confluent(bootstrap):
    from confluent_kafka import Consumer, Producer
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "compression.type": "zstd", "linger.ms": 5})
    for i in range(20):
        producer.produce("events", key=b"key-%d" % (i % 5), value=b"value-%d" % i, headers=[("seq", str(i).encode())])
    producer.flush(30)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "c-readers", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "partition.assignment.strategy": "cooperative-sticky"})
    consumer.subscribe(["events"])
    seen = 0
    deadline = time.time() + 30
    while seen < 20 and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen += 1
    consumer.commit(asynchronous=False)
    consumer.close()


def kcat(bootstrap):
    subprocess.run(["kcat", "-b", bootstrap, "-L"], capture_output=True, timeout=30, check=True)
    subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", "events", "-o", "beginning", "-e", "-q"], capture_output=True, timeout=30, check=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kafka-capture-")
    # The server advertises the proxy, so clients come back through it after Metadata.
    proxy = RecordingProxy()
    server = Server(args.tool, os.path.join(folder, "store"), extra_args=["--advertise", "127.0.0.1:%d" % proxy.port, "--default-partitions", "2"])
    server.start()
    proxy.target_port = server.port
    try:
        bootstrap = "127.0.0.1:%d" % proxy.port
        for name, run in (("kafka-python", kafka_python), ("librdkafka", confluent), ("kcat", kcat)):
            proxy.client = name
            run(bootstrap)
            time.sleep(0.5)  # lets the last requests of this client reach the proxy's record
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        os.remove(os.path.join(args.out, name))
    for (client, key, version), frame in sorted(proxy.frames.items()):
        with open(os.path.join(args.out, "%s-%02d-v%d.bin" % (client, key, version)), "wb") as out:
            out.write(frame)
    print("%d request frames in %s" % (len(proxy.frames), args.out))


if __name__ == "__main__":
    main()
