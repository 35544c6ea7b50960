# mmsched: set-up, tests, benchmarks. `make help` lists the targets.
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: help install deps-system test test-slow bench lint synth clean demo

help:
	@echo "install    pip install -e .[dev,rtl] and Icarus Verilog (apt) if missing"
	@echo "demo       the main job: default scenario, all policies -> results/demo (table + plots)"
	@echo "test       the default test run (excludes tests marked slow)"
	@echo "test-slow  only the slow tests"
	@echo "bench      benchmarks (speed; separate from tests)"
	@echo "lint       ruff"
	@echo "synth      synthesis figures via Yosys/nextpnr (slow; not in CI)"
	@echo "clean      remove build/ and caches"

deps-system:
	@command -v iverilog >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq iverilog; }

install: deps-system
	$(PYTHON) -m pip install -q -e '.[dev,rtl]'

demo: install
	mmsched run --out results/demo

test: install
	pytest -m "not slow" -q $(PYTEST_ARGS)

test-slow: install
	pytest -m slow -q $(PYTEST_ARGS)

bench: install
	$(PYTHON) bench/run.py

lint:
	ruff check hw sched sim tests bench examples

synth: install
	$(PYTHON) -m pip install -q -e '.[synth]'
	$(PYTHON) bench/synth.py

clean:
	rm -rf build .pytest_cache .ruff_cache
