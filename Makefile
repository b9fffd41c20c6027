# mobilec: every target sets up what it needs itself (venv, pip packages, Debian packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
MODELS := build/models
CC ?= cc

.PHONY: all setup sysdeps test test-runtime test-python demo models bench fuzz clean help

help:
	@echo "make demo   export MCi1 (256x256), compile it for this CPU to generated/mci1_model.c, build, run, verify, time"
	@echo "make test   all tests: runtime kernels (cmocka, also under ASan/UBSan) and pytest"
	@echo "make models full-resolution verify of every encoder in every form, error vs float64 over 6 inputs, mobilec diff of each"
	@echo "make bench  latency of every encoder beside onnxruntime (build/bench/BENCH.md)"
	@echo "make fuzz   3000 malformed models through mobilec compile (FUZZ_CASES, FUZZ_SEED)"

# Debian packages the C side needs (the aarch64 cross compiler, qemu and arm64 cmocka for
# the aarch64 target's tests, llvm-16 for llvm-mca's model of its kernels, clang for the
# second compiler the generated code and runtime are checked with); installed only when
# missing (needs root or sudo).
sysdeps:
	@missing=""; \
	[ -f /usr/include/cmocka.h ] || missing="$$missing libcmocka-dev"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v aarch64-linux-gnu-gcc >/dev/null || missing="$$missing gcc-aarch64-linux-gnu"; \
	command -v qemu-aarch64 >/dev/null || missing="$$missing qemu-user"; \
	command -v clang >/dev/null || missing="$$missing clang"; \
	command -v llvm-mca-16 >/dev/null || missing="$$missing llvm-16"; \
	[ -f /usr/lib/aarch64-linux-gnu/libcmocka.so ] || missing="$$missing libcmocka-dev:arm64"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  dpkg --print-foreign-architectures | grep -qx arm64 || $$SUDO dpkg --add-architecture arm64; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# torch is pinned: an unpinned install pulls several GB.
	$(VENV)/bin/pip install -q torch==2.14.1 torchvision==0.29.1 -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

setup: sysdeps $(STAMP)

test: setup test-runtime test-python

test-runtime: sysdeps
	$(MAKE) -C tests/runtime run

# One pytest worker per core (pytest-xdist); worksteal evens out the long encoder tests.
# TEST_JOBS=0: all in the pytest process itself. PYTEST_FLAGS: more options (-x, -k ...).
TEST_JOBS ?= $(shell nproc)
test-python: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist worksteal $(PYTEST_FLAGS) tests

# DEMO_TARGET=generic for the portable code; native is the best this CPU runs.
DEMO_TARGET ?= native
demo: setup
	$(PY) -m compiler.cli export mci1 --resolution 256 -o $(MODELS)/mci1.onnx --reference
	$(PY) -m compiler.cli compile $(MODELS)/mci1.onnx --name mci1 --target $(DEMO_TARGET) -o generated/mci1_model.c
	$(PY) -m compiler.cli verify $(MODELS)/mci1.onnx --name mci1 --target $(DEMO_TARGET) --seeds 2
	$(PY) -m compiler.cli verify $(MODELS)/mci1.onnx --name mci1 --target $(DEMO_TARGET) --input $(MODELS)/mci1_input.bin --expect $(MODELS)/mci1_output_fp64.bin
	$(PY) -m compiler.cli bench $(MODELS)/mci1.onnx --name mci1 --target $(DEMO_TARGET) --runs 5 -q

models: setup
	$(PY) tests/models/full_resolution.py
	$(PY) tests/models/fidelity.py
	$(PY) tests/models/diff_report.py

bench: setup
	$(PY) tests/models/bench_all.py

FUZZ_CASES ?= 3000
FUZZ_SEED ?= 1
fuzz: setup
	$(PY) tests/fuzz/fuzz.py --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

clean:
	rm -rf build generated/*_model.[ch]
