#!/usr/bin/env bash
# Produces a varied stream with the debug stream-tool, then decodes every segment with an
# independent Kafka implementation (tools/kafka-decode-check.py) and compares record by record
# with the input that was produced.
set -euo pipefail
cd "$(dirname "$0")/.."
# SWIFT_BUILD_FLAGS: make test's build folder and flags (Makefile, TEST_BUILD_FLAGS).
swift build ${SWIFT_BUILD_FLAGS:-} --product stream-tool >/dev/null
tool="$(swift build ${SWIFT_BUILD_FLAGS:-} --show-bin-path)/stream-tool"
store="$(mktemp -d)"
input="$(mktemp)"
tail="$(mktemp)"
trap 'rm -rf "$store" "$store.log" "$input" "$tail"' EXIT

"$tool" create events --store "$store" --partitions 3 --segment-bytes 64KiB >/dev/null
"$tool" create zevents --store "$store" --partitions 3 --segment-bytes 64KiB --compression zstd:3 >/dev/null
python3 - >"$input" <<'PY'
import base64, json, random
random.seed(7)
for i in range(5000):
    line = {"value": json.dumps({"type": "order-placed", "orderId": f"o-{i}", "amountCents": random.randint(100, 99999)})}
    if i % 3:
        line["key"] = f"customer-{random.randint(0, 99)}"
    if i % 5 == 0:
        line["headers"] = {"correlation-id": f"c-{i // 3}", "message-id": f"m-{i}"}
    if i % 7 == 0:
        line["timestamp"] = 1764410400000 + i
    if i % 11 == 0:
        del line["value"]
        line["valueBase64"] = base64.b64encode(bytes(random.randrange(256) for _ in range(40))).decode()
    print(json.dumps(line))
PY
printf 'tail-1\ntail-2\n' >"$tail"
after=$(date +%s%3N)
for topic in events zevents; do
    # Quiet unless it fails: then its stderr says why.
    "$tool" produce "$topic" --store "$store" --format json --input "$input" 2>"$store.log" || { cat "$store.log" >&2; exit 1; }
    "$tool" produce "$topic" --store "$store" --partition 0 --input "$tail" 2>"$store.log" || { cat "$store.log" >&2; exit 1; }
done
before=$(date +%s%3N)
python3 tools/kafka-decode-check.py "$tool" "$store" events --partitions 3 --codec none --input "$input" --tail "$tail" --after-ms "$after" --before-ms "$before"
python3 tools/kafka-decode-check.py "$tool" "$store" zevents --partitions 3 --codec zstd --input "$input" --tail "$tail" --after-ms "$after" --before-ms "$before"
