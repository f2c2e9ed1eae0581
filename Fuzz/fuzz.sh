#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Fuzz/ (see Fuzz/README.md); `make fuzz` calls it.
#
#   Fuzz/fuzz.sh [SECONDS] [TARGET...]      each target SECONDS (default 60); all targets by default
#   Fuzz/fuzz.sh --write-corpus [TARGET...] rewrites the committed seeds in Fuzz/Corpus/<target>
#
# Environment: FUZZ_SANITIZE=address adds AddressSanitizer (about half the speed, its own build
# folder .build-fuzz-address), SWIFT (the swift command).
#
# Each target starts from the committed seeds (Fuzz/Corpus/<target>) plus what earlier runs
# found (.fuzz/corpus/<target>, git-ignored); new inputs go to the latter. Crash inputs are saved
# in .fuzz/artifacts/<target>/ and printed with the command that reproduces them. Exits 1 when
# any target crashed or broke an invariant.
set -euo pipefail
cd "$(dirname "$0")/.."

write_corpus=0
if [ "${1:-}" = --write-corpus ]; then
    write_corpus=1
    shift
    seconds=0
else
    seconds=${1:-60}
    shift || true
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(batch-decoder index-validation segment-recovery json-line kafka-request)
swift=${SWIFT:-swift}
sanitize=${FUZZ_SANITIZE:-}

scratch=.build-fuzz
sanitize_flags=(--sanitize fuzzer)
run_flags=()
case $sanitize in
    "" | fuzzer) sanitize=fuzzer ;;
    address)
        # `--sanitize fuzzer --sanitize address` reaches the compiler as two -sanitize flags of
        # which only the last counts: the engine then gets no coverage instrumentation at all
        # (44 counters instead of about 29,000). One combined flag instruments both.
        scratch=.build-fuzz-address
        sanitize_flags+=(-Xswiftc -sanitize=fuzzer,address)
        # LeakSanitizer after every input that allocated more than it freed made the store-level
        # targets ten times slower (16 instead of 160 inputs/s) and found nothing.
        run_flags+=(-detect_leaks=0) ;;
    *) echo "FUZZ_SANITIZE is empty or address, not $sanitize" >&2; exit 2 ;;
esac

product() {
    case $1 in
        batch-decoder) echo FuzzBatchDecoder ;;
        index-validation) echo FuzzIndexValidation ;;
        segment-recovery) echo FuzzSegmentRecovery ;;
        json-line) echo FuzzJSONLine ;;
        kafka-request) echo FuzzKafkaRequest ;;
        *) echo "unknown fuzz target $1 (batch-decoder, index-validation, segment-recovery, json-line, kafka-request)" >&2; exit 2 ;;
    esac
}

# Largest input per target: a batch or log of a few KiB reaches every check; larger inputs only
# slow a run down. The index target needs more than 8 KiB to reach the cold half of the search.
max_len() {
    case $1 in
        batch-decoder) echo 16384 ;;
        index-validation) echo 20000 ;;
        segment-recovery) echo 16384 ;;
        json-line) echo 4096 ;;
        kafka-request) echo 8192 ;;
    esac
}

# One product per build: without --product every fuzz target's main is linked into one binary,
# and the build fails with "multiple definition of main".
build_start=$(date +%s)
for target in "${targets[@]}"; do
    "$swift" build -c release --package-path Fuzz --scratch-path "$scratch" "${sanitize_flags[@]}" --product "$(product "$target")" \
        2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|__asan_extra_spill_area' || true
    [ -x "$scratch/release/$(product "$target")" ] || { echo "error: building $(product "$target") failed" >&2; exit 1; }
done
echo "built ${#targets[@]} fuzz target(s) in $(( $(date +%s) - build_start )) s ($sanitize)"

if [ $write_corpus = 1 ]; then
    # Each target writes its own seeds from data the engine writes, then exits (Fuzz/README.md).
    for target in "${targets[@]}"; do
        STREAMSTORE_FUZZ_WRITE_CORPUS="Fuzz/Corpus/$target" SWIFT_BACKTRACE=enable=no "$scratch/release/$(product "$target")"
    done
    exit 0
fi

mkdir -p .fuzz/logs
failed=0
summary=()
for target in "${targets[@]}"; do
    binary="$scratch/release/$(product "$target")"
    corpus=.fuzz/corpus/$target
    artifacts=.fuzz/artifacts/$target
    log=.fuzz/logs/$target.log
    mkdir -p "$corpus" "$artifacts"
    before=$(ls "$artifacts" | wc -l)
    echo "fuzzing $target for ${seconds}s ..."
    # The Swift runtime's backtracer would catch a trap before libFuzzer could save the input.
    set +e
    SWIFT_BACKTRACE=enable=no "$binary" "$corpus" "Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 ${run_flags[@]+"${run_flags[@]}"} >"$log" 2>&1
    status=$?
    set -e
    runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{ print $2 }' | tail -1)
    rate=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{ print $2 }' | tail -1)
    coverage=$(grep -hoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    summary+=("$(printf '%-18s %12s runs %8s exec/s   %s' "$target" "$runs" "$rate" "${coverage:-cov: ?}")")
    if [ "$(ls "$artifacts" | wc -l)" -gt "$before" ] || [ $status -ne 0 ]; then
        failed=1
        echo "!! $target failed (exit $status); its log: $log"
        grep -hE 'Fatal error|ERROR: libFuzzer|SUMMARY' "$log" | head -5 || true
        for file in $(ls -t "$artifacts" | head -$(( $(ls "$artifacts" | wc -l) - before ))); do
            echo "   input: $artifacts/$file"
            echo "   reproduce: SWIFT_BACKTRACE=enable=no $binary $artifacts/$file"
        done
    fi
done

echo
echo "fuzzing summary (${seconds}s per target, $sanitize):"
printf '  %s\n' "${summary[@]}"
exit $failed
