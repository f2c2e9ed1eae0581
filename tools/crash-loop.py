#!/usr/bin/env python3
"""Crash loop: runs a real child process (stream-crash-child) that appends from four tasks and
reports every acknowledged batch on a pipe, kills it with SIGKILL at a random moment, and checks
the store from outside with the command-line tool, as an operator would:

  * `stream-tool verify` must find every segment intact (exit 0);
  * every batch acknowledged in this round must be readable (`stream-tool replay --format json`)
    at the offsets it was acknowledged at, with the values the child wrote;
  * every batch acknowledged in earlier rounds must still be below the log end.

Then, on the same store, the child consumes as a member of a consumer group and commits after
each record, and is killed the same way; `stream-tool groups lag --json` must show, per
partition, a committed offset at least the last the child saw committed and at most one past
the last it handled, and the next run must start exactly at the committed offset (records
handled but not committed come again; none is skipped).

Last, the child resends records as a producer restarting after a crash does, into a topic with a
message-id de-duplication window: from the first record it has no acknowledgement for, and
sometimes from up to four batches earlier. One task's batches are also idempotent (producer id,
epoch, sequence). After every kill each partition must hold every record exactly once, in order,
with no gap; every acknowledgement must name the offsets the records really have (the originals'
for the duplicates left out).

Every child must print "ready", then work (an acknowledgement, a commit) before it is killed, and
must still be running when it is: a child that exits on its own (an append or commit that failed
after recovery) fails the round with its exit status and stderr, as does any stream-tool call
that fails, `groups lag` included (only its "no such group" before the group's first commit means
"nothing committed yet").

usage: crash-loop.py [--iterations N] [--flush everyAppend,interval:5,never] [--seed S] [--keep] [--release]
Exit 0 when every round passed; 1 with the first failure (and the seed to replay it) otherwise.
"""
import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RoundFailed(Exception):
    """A check failed: the message says which phase, flush policy and iteration, and what."""


def binaries(release):
    # SWIFT_BUILD_FLAGS: make test's build folder and flags (Makefile, TEST_BUILD_FLAGS).
    mode = (["-c", "release"] if release else []) + shlex.split(os.environ.get("SWIFT_BUILD_FLAGS", ""))
    subprocess.run(["swift", "build", *mode, "--product", "stream-tool"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", *mode, "--product", "stream-crash-child"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    folder = subprocess.run(["swift", "build", *mode, "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(folder, "stream-tool"), os.path.join(folder, "stream-crash-child")


class Child:
    """A child process whose stdout and stderr are read to the end by threads of their own."""

    def __init__(self, command):
        self.command = command
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self.errors = []
        self.changed = threading.Condition()
        self.ended = False
        self.readers = [threading.Thread(target=self._read_stdout), threading.Thread(target=self._read_stderr)]
        for reader in self.readers:
            reader.start()

    def _read_stdout(self):
        for raw in self.process.stdout:
            with self.changed:
                self.lines.append(raw.decode(errors="replace"))
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def _read_stderr(self):
        for raw in self.process.stderr:
            self.errors.append(raw.decode(errors="replace"))

    def wait_for(self, predicate, seconds):
        """Waits until `predicate(lines)` holds (True), the output ends or `seconds` pass (False)."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    return predicate(self.lines)
                self.changed.wait(left)
            return True

    def kill_and_reap(self):
        """SIGKILLs the child (if it still runs), reaps it and reads the rest of its output; returns its status."""
        try:
            self.process.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        for reader in self.readers:
            reader.join()
        return self.process.returncode

    def failure(self, what):
        """`what`, the child's command, exit status and stderr, for a RoundFailed."""
        status = self.process.poll()
        described = "still running" if status is None else (f"killed by signal {-status}" if status < 0 else f"exited {status}")
        stderr = "".join(self.errors).strip() or "(nothing on stderr)"
        return f"{what}: {' '.join(self.command[:2])} {described}; its stderr:\n{stderr}"


def run_and_kill(command, delay_seconds, work, expect_work=True):
    """Starts `command`, waits for its "ready" line, then for its first line of work (`work`, a
    tuple of first words: proof this round really ran), SIGKILLs it `delay_seconds` later and
    returns its lines split into fields. A child that exits on its own, never gets ready, or
    does no work is a failure showing its exit status and stderr: an append that failed after
    recovery must turn the loop red, not make an empty round."""
    child = Child(command)
    try:
        if not child.wait_for(lambda lines: any(line.startswith("ready") for line in lines), 60):
            child.kill_and_reap()
            raise RoundFailed(child.failure("the child never printed ready"))
        if expect_work and not child.wait_for(lambda lines: any(line.split(" ", 1)[0] in work for line in lines), 60):
            child.kill_and_reap()
            raise RoundFailed(child.failure(f"the child printed no {'/'.join(work)} line: it did no work this round"))
        time.sleep(delay_seconds)
        if child.process.poll() is not None:
            child.kill_and_reap()
            raise RoundFailed(child.failure("the child ended before it was killed"))
        status = child.kill_and_reap()
        if status != -signal.SIGKILL:
            raise RoundFailed(child.failure("the child ended before it was killed"))
        return [line.split() for line in child.lines]
    finally:
        if child.process.poll() is None:
            child.kill_and_reap()


def run_child(child, store, flush, delay_seconds):
    """Runs the appending child until it is killed; returns its acks (at least one)."""
    acks = []
    for fields in run_and_kill([child, store, flush, "4", "20"], delay_seconds, work=("ack",)):
        if len(fields) == 7 and fields[0] == "ack":
            partition, base, last, task, first, run = fields[1:]
            acks.append((int(partition), int(base), int(last), int(task), int(first), run))
    return acks


def run_consumer(child, store, delay_seconds, expect_work):
    """Runs the child as a consumer of group "crash-loop" until it is killed; returns what it printed."""
    return run_and_kill([child, "consume", store, "crash-loop"], delay_seconds, work=("committed",), expect_work=expect_work)


def run_guarded(child, store, flush, start, delay_seconds):
    """Runs the resending child from `start` (per task) until it is killed; returns its acks (at least one)."""
    acks = []
    for fields in run_and_kill([child, "guarded", store, flush, str(start[0]), str(start[1])], delay_seconds, work=("gack",)):
        if len(fields) == 6 and fields[0] == "gack":
            acks.append(tuple(int(field) for field in fields[1:]))
    return acks


def check_guarded_round(tool, store, acks, acknowledged, checked):
    """`acknowledged[task]`: records of each task acknowledged so far, this round included.
    `checked[task]`: the offset below which earlier rounds read every record back; this round
    reads from a little before it (the log is append-only here, and `verify` still checks every
    batch's CRC), so the long mode does not re-read the whole log after every kill."""
    for partition, first, first_offset, last_offset, _ in acks:
        if (first_offset, last_offset) != (first, first + 9):
            return f"partition {partition}: records {first}...{first + 9} acknowledged at offsets {first_offset}...{last_offset}"
    verify = subprocess.run([tool, "verify", "guarded", "--store", store], capture_output=True, text=True)
    if verify.returncode != 0:
        return f"verify exited {verify.returncode}:\n{verify.stdout}{verify.stderr}"
    for partition in (0, 1):
        start = max(0, checked[partition] - 50)
        output = run_tool(tool, "replay", "guarded", "--store", store, "--partition", str(partition), "--from-offset", str(start), "--format", "json")
        records = [json.loads(line) for line in output.splitlines()]
        for offset, record in enumerate(records, start=start):
            expected = f"{partition}:{offset}"
            if record["offset"] != offset or record.get("value") != expected or record["headers"].get("message-id") != f"{partition}-{offset}":
                return f"partition {partition} offset {offset}: {record!r}, expected value {expected!r} (a duplicate or a gap)"
        end = start + len(records)
        if end < acknowledged[partition]:
            return f"partition {partition}: {acknowledged[partition]} records acknowledged, {end} in the log"
        if end > acknowledged[partition] + 10:
            return f"partition {partition}: {end} records, more than one unacknowledged batch past the {acknowledged[partition]} acknowledged"
        checked[partition] = acknowledged[partition]
    return None


def run_tool(tool, *arguments):
    """Runs stream-tool; its stdout, or a RoundFailed with its exit status and stderr."""
    result = subprocess.run([tool, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise RoundFailed(f"stream-tool {' '.join(arguments[:2])} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def committed_offsets(tool, store, exists=True):
    """The group's committed offsets per partition. Before its first commit (`exists` False) the
    tool's unknown-group refusal means none; any other failure is one."""
    result = subprocess.run([tool, "groups", "lag", "crash-loop", "--store", store, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        if not exists and result.returncode == 1 and "There is no consumer group" in result.stderr:
            return {}
        raise RoundFailed(f"stream-tool groups lag exited {result.returncode}:\n{result.stdout}{result.stderr}")
    offsets = {}
    for group in json.loads(result.stdout)["groups"]:
        for topic in group["topics"]:
            for partition in topic["partitions"]:
                if partition.get("committedOffset") is not None:
                    offsets[partition["partition"]] = partition["committedOffset"]
    return offsets


def check_consumer_round(tool, store, printed, before, expect_work):
    first, last_handled, last_committed = {}, {}, {}
    for fields in printed:
        if len(fields) == 3 and fields[0] in ("handled", "committed"):
            partition, offset = int(fields[1]), int(fields[2])
            if fields[0] == "handled":
                first.setdefault(partition, offset)
                last_handled[partition] = offset
            else:
                last_committed[partition] = offset
    for partition, offset in first.items():
        if offset != before.get(partition, 0):
            return f"partition {partition}: the consumer started at {offset}, not at the committed {before.get(partition, 0)}", None
    if expect_work and not last_committed:
        return "the consumer committed nothing this round", None
    now = committed_offsets(tool, store)
    if expect_work and sum(now.values()) <= sum(before.values()):
        return f"the committed offsets did not move this round ({before} then {now}), though the child printed commits", None
    for partition in set(now) | set(last_committed):
        committed = now.get(partition, 0)
        if committed < last_committed.get(partition, before.get(partition, 0)):
            return f"partition {partition}: commit {last_committed.get(partition)} was lost (now {committed})", None
        if committed > last_handled.get(partition, before.get(partition, 0) - 1) + 1:
            return f"partition {partition}: committed {committed} runs ahead of the last handled {last_handled.get(partition)}", None
    return None, now


def log_ends(tool, store):
    output = run_tool(tool, "describe", "crash", "--store", store, "--json")
    partitions = json.loads(output)["topics"][0]["partitions"]
    return {p["partition"]: p["logEndOffset"] for p in partitions}


def check_round(tool, store, acks, earlier):
    verify = subprocess.run([tool, "verify", "crash", "--store", store], capture_output=True, text=True)
    if verify.returncode != 0:
        return f"verify exited {verify.returncode}:\n{verify.stdout}{verify.stderr}"
    ends = log_ends(tool, store)
    for partition, _, last, *_ in earlier:
        if last >= ends[partition]:
            return f"an earlier acknowledged offset {last} of partition {partition} is gone (log end {ends[partition]})"
    for partition in sorted({ack[0] for ack in acks}):
        mine = [ack for ack in acks if ack[0] == partition]
        start = min(ack[1] for ack in mine)
        output = run_tool(tool, "replay", "crash", "--store", store, "--partition", str(partition), "--from-offset", str(start), "--format", "json")
        values = {}
        for line in output.splitlines():
            record = json.loads(line)
            values[record["offset"]] = record.get("value")
        for _, base, last, task, first, run in mine:
            for offset in range(base, last + 1):
                expected = f"{task}:{first + offset - base}:{run}"
                if values.get(offset) != expected:
                    return f"partition {partition} offset {offset}: {values.get(offset)!r}, acknowledged as {expected!r}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20, help="kills per flush policy")
    parser.add_argument("--flush", default="everyAppend,interval:5,never")
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    parser.add_argument("--keep", action="store_true", help="keep the store folders")
    parser.add_argument("--release", action="store_true", help="use release builds (faster checks on large stores)")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    tool, child = binaries(options.release)
    started = time.time()
    total_acks = 0
    for flush in options.flush.split(","):
        store = tempfile.mkdtemp(prefix=f"crash-loop-{flush.replace(':', '')}-")
        earlier = []
        keep = options.keep
        phase = f"flush {flush}"
        try:
            for iteration in range(options.iterations):
                phase = f"flush {flush}, iteration {iteration}"
                acks = run_child(child, store, flush, rng.uniform(0.02, 0.3))
                failure = "the child acknowledged nothing" if not acks else check_round(tool, store, acks, earlier)
                if failure:
                    raise RoundFailed(failure)
                earlier += acks
                total_acks += len(acks)
                if sys.stderr.isatty():
                    print(f"\r{flush}: {iteration + 1}/{options.iterations} kills, {len(earlier)} batches acknowledged", end="", file=sys.stderr)
            if sys.stderr.isatty():
                print(file=sys.stderr)
            print(f"{flush}: {options.iterations} kills, {len(earlier)} acknowledged batches, all intact")
            committed = committed_offsets(tool, store, exists=False)
            ends = log_ends(tool, store)
            for iteration in range(options.iterations):
                phase = f"consumer, flush {flush}, iteration {iteration}"
                # Every round must commit something while records are left to process.
                left = sum(end - committed.get(partition, 0) for partition, end in ends.items())
                printed = run_consumer(child, store, rng.uniform(0.02, 0.3), expect_work=left > 0)
                failure, committed = check_consumer_round(tool, store, printed, committed, expect_work=left > 0)
                if failure:
                    raise RoundFailed(failure)
            print(f"{flush}: {options.iterations} consumer kills, committed offsets {committed}, none lost or ahead")
            acknowledged, checked, duplicates = [0, 0], [0, 0], 0
            for iteration in range(options.iterations):
                phase = f"resending producer, flush {flush}, iteration {iteration}"
                start = [max(0, count - 10 * rng.randint(0, 4)) for count in acknowledged]
                acks = run_guarded(child, store, flush, start, rng.uniform(0.02, 0.3))
                if not acks:
                    raise RoundFailed("the child acknowledged nothing")
                for partition, first, _, _, left_out in acks:
                    acknowledged[partition] = max(acknowledged[partition], first + 10)
                    duplicates += left_out
                failure = check_guarded_round(tool, store, acks, acknowledged, checked)
                if failure:
                    raise RoundFailed(failure)
            print(f"{flush}: {options.iterations} resending-producer kills, {sum(acknowledged)} records acknowledged, {duplicates} resent duplicates left out, each record exactly once")
        except RoundFailed as failed:
            print(f"FAILED: {phase}: {failed}; seed {options.seed}", file=sys.stderr)
            print(f"store kept at {store}", file=sys.stderr)
            keep = True
            sys.exit(1)
        finally:
            if not keep and os.path.isdir(store):
                shutil.rmtree(store)
    print(f"crash loop passed: seed {options.seed}, {total_acks} acknowledged batches checked, {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
