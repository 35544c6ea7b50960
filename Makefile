# mmsched: set-up, tests, benchmarks. `make help` lists the targets.
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: help install deps-system test test-slow bench lint lint-imports synth clean demo caches paper

help:
	@echo "install    pip install -e .[dev,rtl] and Icarus Verilog (apt) if missing"
	@echo "demo       the main job: default scenario, all policies -> results/demo (table + plots)"
	@echo "test       the default test run (excludes tests marked slow)"
	@echo "test-slow  only the slow tests"
	@echo "bench      benchmarks (speed; separate from tests)"
	@echo "paper      run experiments/paper-*.toml, write docs/results/ (both papers' figures)"
	@echo "lint       ruff"
	@echo "lint-imports  the layering contract (hw <- sched <- sim; part of make test)"
	@echo "synth      synthesis figures via Yosys/nextpnr (slow; not in CI)"
	@echo "caches     regenerate the profile caches shipped in sim/data/profile_cache (developers)"
	@echo "clean      remove build/ and caches"

deps-system:
	@command -v iverilog >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq iverilog; }

install: deps-system
	$(PYTHON) -m pip install -q -e '.[dev,rtl]'

demo: install
	mmsched run --out results/demo

test: install lint-imports
	pytest -m "not slow" -q $(PYTEST_ARGS)

test-slow: install
	pytest -m slow -q $(PYTEST_ARGS)

bench: install
	$(PYTHON) bench/run.py

lint:
	ruff check hw sched sim tests bench examples experiments

# The papers' figures on our workloads (docs/results/README.md): resumable, under 15 minutes on
# 2 cores with a warm profile cache (a new array shape is profiled once, about a minute).
paper: install
	$(PYTHON) experiments/paper.py

# import-linter reads packages from the file system; the editable install maps mmsched.* to the
# three top folders through an import hook, so link them under build/ as a real mmsched tree.
lint-imports:
	@rm -rf build/importlint && mkdir -p build/importlint/mmsched
	@for d in hw sched sim; do ln -s "$(CURDIR)/$$d" build/importlint/mmsched/$$d; done
	cd build/importlint && PYTHONPATH=. lint-imports "$(CURDIR)/pyproject.toml"

synth: install
	$(PYTHON) -m pip install -q -e '.[synth]'
	$(PYTHON) bench/synth.py

# The profile caches shipped with the package: every shipped scenario and system variant,
# profiled with the exact cycle model (reads the user cache where it can). Run after changing
# the cycle model, the zoo, the masks, the patterns or a shipped scenario; tests/sim/
# test_shipped_caches.py fails until then.
caches:
	mmsched profile --ship

clean:
	rm -rf build .pytest_cache .ruff_cache
