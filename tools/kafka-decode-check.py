#!/usr/bin/env python3
"""Checks that StreamStore's segment files are Kafka RecordBatch v2, byte for byte, by decoding
them with an independent Kafka implementation (kafka-python's record decoder) and comparing every
record with what `stream-tool replay --format json` prints for the same partition.

usage: kafka-decode-check.py STREAM_TOOL STORE_DIR TOPIC PARTITION
Exit 0 when every batch passes kafka-python's CRC check and every record matches; 1 otherwise.
"""
import base64
import glob
import json
import os
import subprocess
import sys

from kafka.record.memory_records import MemoryRecords


def decode_segments(folder):
    records = []
    batches = 0
    codecs = set()
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        with open(path, "rb") as handle:
            data = handle.read()
        memory = MemoryRecords(data)
        while True:
            batch = memory.next_batch()
            if batch is None:
                break
            batches += 1
            codecs.add(batch.compression_type)
            if not batch.validate_crc():
                sys.exit(f"{path}: batch at offset {batch.base_offset} fails kafka-python's CRC check")
            for record in batch:
                records.append(record)
    return batches, records, codecs


def text_or_base64(entry, name):
    if entry.get(name) is not None:
        return entry[name].encode("utf-8")
    if entry.get(name + "Base64") is not None:
        return base64.b64decode(entry[name + "Base64"])
    return None


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    tool, store, topic, partition = sys.argv[1:]
    batches, decoded, codecs = decode_segments(os.path.join(store, topic, partition))
    replay = subprocess.run(
        [tool, "replay", topic, "--store", store, "--partition", partition, "--from-beginning", "--format", "json"],
        check=True, capture_output=True, text=True).stdout.splitlines()
    expected = [json.loads(line) for line in replay]
    if len(decoded) != len(expected):
        sys.exit(f"kafka-python decoded {len(decoded)} records, stream-tool replayed {len(expected)}")
    for record, entry in zip(decoded, expected):
        problems = []
        if record.offset != entry["offset"]:
            problems.append(f"offset {record.offset} != {entry['offset']}")
        if record.timestamp != entry["timestamp"]:
            problems.append(f"timestamp {record.timestamp} != {entry['timestamp']}")
        if record.key != text_or_base64(entry, "key"):
            problems.append(f"key {record.key!r}")
        if record.value != text_or_base64(entry, "value"):
            problems.append(f"value {record.value!r}")
        headers = {key: (value.decode("utf-8") if value is not None else None) for key, value in record.headers}
        if headers != (entry.get("headers") or {}):
            problems.append(f"headers {headers} != {entry.get('headers')}")
        if problems:
            sys.exit(f"record at offset {entry['offset']}: " + "; ".join(problems))
    names = ", ".join({0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}.get(c, str(c)) for c in sorted(codecs))
    print(f"kafka-python decoded {batches} batches ({names}), {len(decoded)} records of {topic}/{partition}: all match")


if __name__ == "__main__":
    main()
