# Thin wrapper over CMake presets.  The two commands a new operator needs:
#   make demo    install what is missing, build, run the example story
#   make check   install what is missing, build, run every test (normal
#                build, then the whole suite again under ASan+UBSan)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure --no-tests=error -j$(JOBS)

.PHONY: all deps deps-test build build-asan check check-dev check-asan demo bench \
	fuzz fuzz-long format clean

all: build

deps:
	@sh scripts/deps.sh

# make check also installs the test-only tools (chromium, promtool).
deps-test:
	@sh scripts/deps.sh --test

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build build/dev -j$(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j$(JOBS)

check-dev: build deps-test
	cd build/dev && ctest $(CTEST_FLAGS)

check-asan: build-asan deps-test
	cd build/asan && ctest $(CTEST_FLAGS) -LE nosan

check: check-dev check-asan

demo: build
	@sh examples/demo.sh build/dev/exitwarden

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j$(JOBS)
	@sh bench/run.sh build/release

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j$(JOBS)

# Every fuzz target for FUZZ_RUNS executions (10M; see the script for
# FUZZ_TARGETS, FUZZ_KEEP_GOING, FUZZ_MERGE).  Hours; not part of check.
fuzz-long: fuzz
	@sh scripts/fuzz-long.sh build/fuzz

format:
	@sh scripts/check-format.sh --fix

clean:
	rm -rf build
