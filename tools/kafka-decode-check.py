#!/usr/bin/env python3
"""Checks that StreamStore's segment files are Kafka RecordBatch v2, byte for byte, by decoding
every segment of a topic with an independent Kafka implementation (kafka-python's record decoder)
and comparing what it decodes with the input that was produced, not with the store's own reading:

  * every batch passes kafka-python's CRC check and carries the codec the topic was made with
    (`--codec none`: every batch uncompressed; `--codec zstd`: every batch of more than 10
    records zstd-compressed, and at least one);
  * each input line is one record, in input order within its partition, with its key, value,
    headers and (where the line gives one) timestamp; a line without a timestamp is stamped
    between `--after-ms` and `--before-ms`; a keyed line lies in the partition Kafka's default
    partitioner (murmur2) picks; offsets are dense from 0; no record is left over;
  * `stream-tool replay --format json` of each partition agrees with kafka-python too;
  * more than zero records were checked.

usage: kafka-decode-check.py STREAM_TOOL STORE_DIR TOPIC --partitions N --codec none|zstd
           --input JSON_LINES [--tail TEXT_LINES] --after-ms MS --before-ms MS
`--input`: the JSON lines given to `stream-tool produce --format json`; `--tail`: text lines
then given to `stream-tool produce --partition 0` (one record each, no key).
Exit 0 when everything matches; 1 with the first difference otherwise.
"""
import argparse
import base64
import datetime
import glob
import json
import os
import subprocess
import sys

from kafka.partitioner.default import murmur2
from kafka.record.memory_records import MemoryRecords

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def fail(message):
    sys.exit(f"kafka-decode-check: {message}")


def decode_partition(folder, codec, label):
    """kafka-python's records of every segment in `folder`, and the number of batches."""
    records, batches, compressed = [], 0, 0
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        with open(path, "rb") as handle:
            memory = MemoryRecords(handle.read())
        while True:
            batch = memory.next_batch()
            if batch is None:
                break
            batches += 1
            if not batch.validate_crc():
                fail(f"{path}: batch at offset {batch.base_offset} fails kafka-python's CRC check")
            count = 0
            for record in batch:
                records.append(record)
                count += 1
            kind = batch.compression_type
            if codec == "none" and kind != 0:
                fail(f"{label}: batch at {batch.base_offset} has codec {kind}, the topic is uncompressed")
            if codec == "zstd":
                if kind not in (0, 4):
                    fail(f"{label}: batch at {batch.base_offset} has codec {kind}, not zstd (4) or none")
                if count > 10 and kind != 4:
                    fail(f"{label}: batch at {batch.base_offset} of {count} records is not zstd-compressed")
                compressed += kind == 4
    return records, batches, compressed


def text_or_base64(entry, name):
    if entry.get(name) is not None:
        return entry[name].encode("utf-8")
    if entry.get(name + "Base64") is not None:
        return base64.b64decode(entry[name + "Base64"])
    return None


def timestamp_ms(value):
    """A JSON line's timestamp: milliseconds, or an ISO 8601 string."""
    if isinstance(value, int):
        return value
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def expected_records(options):
    """What was produced, in order: (key, value, headers, timestamp or None, partition or None)."""
    expected = []
    with open(options.input) as handle:
        for line in handle:
            entry = json.loads(line)
            headers = [(k, v.encode("utf-8")) for k, v in (entry.get("headers") or {}).items()]
            stamp = timestamp_ms(entry["timestamp"]) if "timestamp" in entry else None
            expected.append((text_or_base64(entry, "key"), text_or_base64(entry, "value"), headers, stamp, entry.get("partition")))
    if options.tail:
        with open(options.tail) as handle:
            for line in handle.read().splitlines():
                expected.append((None, line.encode("utf-8"), [], None, 0))
    return expected


def differences(record, key, value, headers, stamp, options):
    problems = []
    if record.key != key:
        problems.append(f"key {record.key!r}, produced {key!r}")
    if record.value != value:
        problems.append(f"value {record.value!r}, produced {value!r}")
    if list(record.headers) != headers:
        problems.append(f"headers {list(record.headers)!r}, produced {headers!r}")
    if stamp is not None and record.timestamp != stamp:
        problems.append(f"timestamp {record.timestamp}, produced {stamp}")
    if stamp is None and not options.after_ms <= record.timestamp <= options.before_ms:
        problems.append(f"timestamp {record.timestamp} outside the produce run ({options.after_ms}...{options.before_ms})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool")
    parser.add_argument("store")
    parser.add_argument("topic")
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--codec", choices=sorted(CODECS), required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--tail")
    parser.add_argument("--after-ms", type=int, required=True)
    parser.add_argument("--before-ms", type=int, required=True)
    options = parser.parse_args()

    decoded, batches, compressed = {}, 0, 0
    for partition in range(options.partitions):
        label = f"{options.topic}/{partition}"
        records, count, zstd = decode_partition(os.path.join(options.store, options.topic, str(partition)), options.codec, label)
        for position, record in enumerate(records):
            if record.offset != position:
                fail(f"{label}: record {position} has offset {record.offset}: offsets are not dense from 0")
        decoded[partition] = records
        batches += count
        compressed += zstd
    if options.codec == "zstd" and compressed == 0:
        fail(f"{options.topic}: no batch is zstd-compressed")

    # Each produced record, in order, is the next record of one partition.
    expected = expected_records(options)
    if not expected:
        fail(f"{options.input}: no input records")
    heads = {partition: 0 for partition in decoded}
    for number, (key, value, headers, stamp, partition) in enumerate(expected):
        if partition is None and key is not None:
            partition = (murmur2(key) & 0x7FFFFFFF) % options.partitions
        candidates = [partition] if partition is not None else sorted(decoded)
        found = None
        report = []
        for candidate in candidates:
            position = heads[candidate]
            if position >= len(decoded[candidate]):
                report.append(f"partition {candidate}: no record left")
                continue
            problems = differences(decoded[candidate][position], key, value, headers, stamp, options)
            if not problems:
                found = candidate
                break
            report.append(f"partition {candidate} offset {position}: " + "; ".join(problems))
        if found is None:
            fail(f"{options.topic}: produced record {number} (key {key!r}) is not the next record of its partition: " + " | ".join(report))
        heads[found] += 1
    for partition, records in decoded.items():
        if heads[partition] != len(records):
            fail(f"{options.topic}/{partition}: {len(records) - heads[partition]} records past the {heads[partition]} produced")
    total = sum(len(records) for records in decoded.values())
    if total == 0 or total != len(expected):
        fail(f"{options.topic}: {total} records decoded, {len(expected)} produced")

    # stream-tool's own reading agrees with kafka-python's.
    for partition, records in decoded.items():
        replay = subprocess.run(
            [options.tool, "replay", options.topic, "--store", options.store, "--partition", str(partition), "--from-beginning", "--format", "json"],
            capture_output=True, text=True)
        if replay.returncode != 0:
            fail(f"stream-tool replay exited {replay.returncode}: {replay.stderr}")
        entries = [json.loads(line) for line in replay.stdout.splitlines()]
        if len(entries) != len(records):
            fail(f"{options.topic}/{partition}: kafka-python decoded {len(records)} records, stream-tool replayed {len(entries)}")
        for record, entry in zip(records, entries):
            headers = [(k, v.encode("utf-8")) for k, v in (entry.get("headers") or {}).items()]
            if (record.offset, record.timestamp, record.key, record.value, list(record.headers)) != (
                    entry["offset"], entry["timestamp"], text_or_base64(entry, "key"), text_or_base64(entry, "value"), headers):
                fail(f"{options.topic}/{partition} offset {record.offset}: stream-tool replay prints {entry}, kafka-python decoded {record}")

    print(f"kafka-python decoded {batches} batches ({options.codec}: {compressed} zstd), {total} records of {options.topic}: "
          f"each the produced record, in its partition, in order")


if __name__ == "__main__":
    main()
