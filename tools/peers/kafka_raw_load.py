"""A Kafka load generator that costs the client almost nothing, so the broker is what is measured.

    python3 tools/peers/kafka_raw_load.py --bootstrap 127.0.0.1:9092 --topic t --mode produce --acks -1
    python3 tools/peers/kafka_raw_load.py --bootstrap 127.0.0.1:9092 --topic t --mode consume
    python3 tools/peers/kafka_raw_load.py --bootstrap 127.0.0.1:9092 --topic t --mode latency --rate 500000

librdkafka spends about a microsecond of client CPU per record (queues, batching, delivery
reports): on a 2-core machine one librdkafka client takes a whole core at ~1.4 M records/s and
becomes the limit. This client encodes one RecordBatch v2 of --batch-records records once (CRC32C
computed once: a broker rewrites only the base offset, which the CRC does not cover) and sends it
again and again in Produce v3 requests, --in-flight at a time on one connection; it reads back with
Fetch v4 and counts records from the batch headers without decoding them. Its CPU time per phase
is printed beside the rate so a reader can check it is small against the broker's.

Modes (one JSON line on stdout each):
  produce   --records records in requests of --batch-records, acks --acks; records/s.
  consume   every record of partition 0 from offset 0, until --records were read; records/s.
  latency   produce paced at --rate records/s for --seconds; each request's round trip
            (written to answered), p50/p99/p99.9 in ms.
"""
import argparse
import json
import resource
import socket
import struct
import select
import time

CRC32C_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0x82F63B78 if _crc & 1 else _crc >> 1
    CRC32C_TABLE.append(_crc)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def varint(value):
    """Kafka's zigzag varint."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        if value < 0x80:
            out.append(value)
            return bytes(out)
        out.append((value & 0x7F) | 0x80)
        value >>= 7


def record_batch(count, record_bytes):
    value = b"x" * record_bytes
    records = bytearray()
    for index in range(count):
        body = b"\x00" + varint(0) + varint(index) + varint(-1) + varint(len(value)) + value + varint(0)
        records += varint(len(body)) + body
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, count - 1, now, now, -1, -1, -1, count) + bytes(records)
    crc = crc32c(after_crc)
    after_length = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def string(text):
    data = text.encode()
    return struct.pack(">h", len(data)) + data


class Connection:
    def __init__(self, bootstrap):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.correlation = 0

    def frame(self, api_key, version, body):
        self.correlation += 1
        header = struct.pack(">hhi", api_key, version, self.correlation) + string("raw-load")
        payload = header + body
        return self.correlation, struct.pack(">i", len(payload)) + payload

    def read_into(self, buffer, count):
        """Reads `count` bytes into the start of `buffer` (a bytearray): one copy, no joins."""
        view = memoryview(buffer)
        got = 0
        while got < count:
            n = self.sock.recv_into(view[got:count])
            if n == 0:
                raise ConnectionError("the broker closed the connection")
            got += n
        return view[:count]

    def read_exactly(self, count):
        chunks, left = [], count
        while left:
            chunk = self.sock.recv(min(left, 8 << 20))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read_response(self):
        (length,) = struct.unpack(">i", self.read_exactly(4))
        data = self.read_exactly(length)
        (correlation,) = struct.unpack(">i", data[:4])
        return correlation, data[4:]

    def call(self, api_key, version, body):
        correlation, frame = self.frame(api_key, version, body)
        self.sock.sendall(frame)
        answered, data = self.read_response()
        assert answered == correlation, "answer %d to request %d" % (answered, correlation)
        return data


def create_topic(connection, topic):
    body = struct.pack(">i", 1) + string(topic) + struct.pack(">ihii", 1, 1, 0, 0) + struct.pack(">i", 30_000)
    data = connection.call(19, 0, body)
    (count,) = struct.unpack(">i", data[:4])
    name_length = struct.unpack(">h", data[4:6])[0]
    (error,) = struct.unpack(">h", data[6 + name_length:8 + name_length])
    if error not in (0, 36):
        raise RuntimeError("CreateTopics %s: error %d" % (topic, error))


def produce_body(topic, batch, acks):
    return (struct.pack(">hhi", -1, acks, 30_000) + struct.pack(">i", 1) + string(topic)
            + struct.pack(">i", 1) + struct.pack(">ii", 0, len(batch)) + batch)


def produce_error(data):
    """The partition's error code in a Produce v3 answer."""
    at = 4  # topics count
    name_length = struct.unpack(">h", data[at:at + 2])[0]
    at += 2 + name_length + 4 + 4  # name, partitions count, partition index
    return struct.unpack(">h", data[at:at + 2])[0]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def produce(args, connection, batch):
    requests = max(1, args.records // args.batch_records)
    body = produce_body(args.topic, batch, args.acks)
    frames = [connection.frame(0, 3, body)[1] for _ in range(requests)]
    cpu, started = cpu_seconds(), time.monotonic()
    sent = answered = 0
    while answered < requests:
        while sent < requests and sent - answered < args.in_flight:
            connection.sock.sendall(frames[sent])
            sent += 1
        _, data = connection.read_response()
        error = produce_error(data)
        if error:
            raise RuntimeError("Produce answered error %d" % error)
        answered += 1
    seconds = time.monotonic() - started
    records = requests * args.batch_records
    return {"mode": "produce", "acks": args.acks, "records": records, "seconds": seconds, "recordsPerSecond": records / seconds,
            "clientCpuSeconds": cpu_seconds() - cpu}


def fetch_body(topic, offset):
    return (struct.pack(">iiiib", -1, 500, 1, 64 << 20, 0) + struct.pack(">i", 1) + string(topic)
            + struct.pack(">i", 1) + struct.pack(">iqi", 0, offset, 32 << 20))


def count_batches(records, offset):
    """Records of the whole batches in `records` at or after `offset`; the next offset."""
    at, counted = 0, 0
    while at + 61 <= len(records):
        base, length = struct.unpack(">qi", records[at:at + 12])
        if at + 12 + length > len(records):
            break
        (last_delta,) = struct.unpack(">i", records[at + 23:at + 27])
        end = base + last_delta + 1
        if end > offset:
            counted += end - max(base, offset)
            offset = end
        at += 12 + length
    return counted, offset


def consume(args, connection):
    cpu, started = cpu_seconds(), time.monotonic()
    offset, total = 0, 0
    buffer = bytearray(80 << 20)
    while total < args.records:
        correlation, frame = connection.frame(1, 4, fetch_body(args.topic, offset))
        connection.sock.sendall(frame)
        (length,) = struct.unpack(">i", connection.read_exactly(4))
        data = connection.read_into(buffer, length)[4:]
        at = 4 + 4  # throttle, topics count
        name_length = struct.unpack(">h", data[at:at + 2])[0]
        at += 2 + name_length + 4  # name, partitions count
        partition, error, _, _ = struct.unpack(">ihqq", data[at:at + 22])
        if error:
            raise RuntimeError("Fetch answered error %d" % error)
        at += 22
        (aborted,) = struct.unpack(">i", data[at:at + 4])
        at += 4 + max(aborted, 0) * 16
        (size,) = struct.unpack(">i", data[at:at + 4])
        at += 4
        counted, offset = count_batches(data[at:at + max(size, 0)], offset)
        total += counted
    seconds = time.monotonic() - started
    return {"mode": "consume", "records": total, "seconds": seconds, "recordsPerSecond": total / seconds, "clientCpuSeconds": cpu_seconds() - cpu}


def latency(args, connection, batch):
    """One thread: sends when a request is due, reads answers whenever they arrive (select), so
    no interpreter thread switch sits between an answer and its timestamp."""
    body = produce_body(args.topic, batch, args.acks)
    interval = args.batch_records / args.rate
    sent_at, rtts = {}, []
    cpu, started = cpu_seconds(), time.monotonic()
    next_send, count = started, 0
    while True:
        now = time.monotonic()
        sending = now - started < args.seconds
        if not sending and not sent_at:
            break
        if sending and now >= next_send:
            correlation, frame = connection.frame(0, 3, body)
            sent_at[correlation] = time.monotonic()
            connection.sock.sendall(frame)
            count += 1
            next_send += interval
            continue
        wait = max(0.0, next_send - now) if sending else 5.0
        readable, _, _ = select.select([connection.sock], [], [], wait)
        if readable:
            correlation, data = connection.read_response()
            rtts.append(time.monotonic() - sent_at.pop(correlation))
            error = produce_error(data)
            if error:
                raise RuntimeError("Produce answered error %d" % error)
    rtts.sort()

    def pick(q):
        return rtts[min(len(rtts) - 1, int(q * len(rtts)))] * 1000

    return {"mode": "latency", "acks": args.acks, "rate": args.rate, "requests": count, "p50Ms": pick(0.50), "p99Ms": pick(0.99),
            "p999Ms": pick(0.999), "maxMs": rtts[-1] * 1000, "clientCpuSeconds": cpu_seconds() - cpu}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--mode", choices=["produce", "consume", "latency"], required=True)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--record-bytes", type=int, default=100)
    parser.add_argument("--batch-records", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--acks", type=int, default=-1, choices=[1, -1])
    parser.add_argument("--rate", type=float, default=500_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--create", action="store_true", help="create the topic (1 partition) first")
    args = parser.parse_args()
    connection = Connection(args.bootstrap)
    if args.create:
        create_topic(connection, args.topic)
    if args.mode == "consume":
        result = consume(args, connection)
    else:
        batch = record_batch(args.batch_records, args.record_bytes)
        result = produce(args, connection, batch) if args.mode == "produce" else latency(args, connection, batch)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
