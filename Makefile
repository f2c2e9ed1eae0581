# StreamStore: `make run` and `make test` set up a fresh Debian machine (only what is missing),
# build, and run. Everything else is optional.

SWIFT ?= swift
STORE ?= ./stream-data
export STREAM_STORE_DIR ?= $(STORE)

.PHONY: run test deps build release demo crash-test clean help

help:
	@echo "make run         build (release) and run the demo against $(STORE)"
	@echo "make test        run the test suite (unit, property, recovery, crash, CLI)"
	@echo "make crash-test  the crash test with many more kill iterations (minutes)"
	@echo "make release     release build of stream-tool"

# System packages the build needs, installed only when missing.
deps:
	@missing=""; \
	command -v $(SWIFT) >/dev/null 2>&1 || { echo "error: swift is not installed (need Swift 6.1 or later)"; exit 1; }; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product stream-tool

run: release
	$$($(SWIFT) build -c release --show-bin-path)/stream-tool demo --store "$(STORE)"

demo: run

test: deps
	$(SWIFT) test

# Long crash test: hundreds of SIGKILLs per flush policy.
crash-test: deps
	STREAMSTORE_CRASH_ITERATIONS=$${ITERATIONS:-150} $(SWIFT) test --filter CrashTests

clean:
	rm -rf .build "$(STORE)"
