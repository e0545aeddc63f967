# presence-gateway: `make run` starts a development gateway, `make test` runs every test suite.
# Each target that needs system packages calls scripts/bootstrap.sh first, which installs what is
# missing (as root) and returns at once when everything is there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SWIFT ?= swift
# Configuration file for `make run`.
CONFIG ?= config.toml
# Seconds each fuzz target runs, for `make fuzz` and for the short pass in `make test`.
# scripts/fuzz.sh reads the value from the FUZZ_SECONDS environment variable.
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 10

# Fails with a clear message when a test script has not been written yet, so that `make test` never
# passes by skipping a suite.
define require_script
	@if [[ ! -f "$(1)" ]]; then \
		echo "error: $(1) is missing, so 'make $@' fails instead of skipping its suite." >&2; \
		exit 1; \
	fi
endef

.PHONY: all build release run test test-swift test-clients test-scenarios test-limits test-cluster \
	test-node test-browser conformance fuzz fuzz-short bench bootstrap bootstrap-run clean

all: build

bootstrap:
	scripts/bootstrap.sh test

bootstrap-run:
	scripts/bootstrap.sh run

build: bootstrap-run
	$(SWIFT) build

release: bootstrap-run
	$(SWIFT) build -c release

# Runs the gateway in the foreground on 127.0.0.1:8080 (admin on 127.0.0.1:9090); stop it with Ctrl-C.
run: release
	.build/release/presence-gateway --config $(CONFIG)

# Every suite, in this order; the first failure stops the run.
test: bootstrap
	$(MAKE) --no-print-directory test-swift
	$(MAKE) --no-print-directory test-clients
	$(MAKE) --no-print-directory test-scenarios
	$(MAKE) --no-print-directory test-limits
	$(MAKE) --no-print-directory test-cluster
	$(MAKE) --no-print-directory test-node
	$(MAKE) --no-print-directory test-browser
	$(MAKE) --no-print-directory conformance
	$(MAKE) --no-print-directory fuzz-short

# Unit and scenario tests of every Swift module (XCTest).
test-swift:
	$(SWIFT) build
	$(SWIFT) test

# The transport against clients nobody here wrote: Python websockets (plain and TLS) and Node ws.
test-clients:
	$(call require_script,tests/clients/run.sh)
	$(SWIFT) build --product presence-gateway
	bash tests/clients/run.sh

# Presence semantics end to end over real sockets, driven by Python websockets.
test-scenarios:
	$(call require_script,tests/scenarios/run.sh)
	$(SWIFT) build --product presence-gateway
	bash tests/scenarios/run.sh

# JWT identity, access rules and abuse limits against the real gateway.
test-limits:
	$(call require_script,tests/limits/run.sh)
	$(SWIFT) build --product presence-gateway
	bash tests/limits/run.sh

# Several gateway processes sharing presence through real redis-server processes. The burst test
# needs a release presence-bench: a debug build opens its connections too slowly to make the joins race.
test-cluster:
	$(call require_script,tests/cluster/run.sh)
	$(SWIFT) build --product presence-gateway
	$(SWIFT) build -c release --product presence-bench
	PRESENCE_BENCH_BIN=.build/release/presence-bench bash tests/cluster/run.sh

# Tests driven by Node's `ws` client and the JavaScript presence client.
test-node:
	$(call require_script,scripts/test-node.sh)
	bash scripts/test-node.sh

# Tests of the demo page in headless Chromium.
test-browser:
	$(call require_script,scripts/test-browser.sh)
	bash scripts/test-browser.sh

# Autobahn|Testsuite fuzzing client against the echo endpoint.
conformance:
	$(call require_script,scripts/conformance.sh)
	bash scripts/conformance.sh

# libFuzzer targets, FUZZ_SECONDS each.
fuzz:
	$(call require_script,scripts/fuzz.sh)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# The short pass of every fuzz target that `make test` runs.
fuzz-short:
	$(call require_script,scripts/fuzz.sh)
	FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS) bash scripts/fuzz.sh

# Every load scenario against the gateway and the Node baseline; writes bench/results/.
bench: bootstrap
	$(call require_script,bench/run.sh)
	bash bench/run.sh

clean:
	rm -rf .build
