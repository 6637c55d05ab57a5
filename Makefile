# Every target creates .venv itself when it is missing, so a fresh clone needs only `make demo`
# or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# reinforced-lib, the baseline of the benchmarks, in its own Python 3.12 environment.
RLIB_VENV := .venv-rlib
RLIB_VERSION := 2.0.4
RLIB_STAMP := $(RLIB_VENV)/.installed-$(RLIB_VERSION)
PYTHON312 ?= $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3.12)

.PHONY: demo test test-fast docs lint wheel-check bench bench-dqn bench-venv bench-checkpoint bench-wifi bench-loggers bench-scaling bench-export clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Extra demo options: make demo DEMO_ARGS="--log-dir logs" (CSV and TensorBoard logs in logs/).
demo: $(STAMP)
	$(BIN)/python -m agentax $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The formatter's check and the linter, configured in pyproject.toml ([tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# The wheel as a user gets it: built, installed (not editable) into a clean venv, imported, and
# the README's quick start run there, outside the source tree.
WHEEL_DIR := build/wheel-check
wheel-check: $(STAMP)
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	$(BIN)/python -m build --wheel --outdir $(WHEEL_DIR)/dist .
	$(PYTHON) -m venv $(WHEEL_DIR)/venv
	$(WHEEL_DIR)/venv/bin/python -m pip install --quiet $(WHEEL_DIR)/dist/agentax-*.whl
	cd $(WHEEL_DIR) && venv/bin/python $(CURDIR)/.ci/quick_start.py $(CURDIR)/README.md

bench-venv: $(RLIB_STAMP)

$(RLIB_STAMP):
	@test -n "$(PYTHON312)" || { echo "bench-venv needs python3.12 (or PYTHON312=/path/to/python3.12)"; exit 1; }
	test -x $(RLIB_VENV)/bin/python || $(PYTHON312) -m venv $(RLIB_VENV)
	$(RLIB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RLIB_VENV)/bin/python -m pip install --quiet 'reinforced-lib==$(RLIB_VERSION)'
	touch $(RLIB_STAMP)

# Uses $(RLIB_VENV) when it exists (`make bench-venv`), else measures agentax alone and says so.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	PYTHONPATH=. $(BIN)/python benchmarks/many_instances.py

# DQN on CartPole-v1: facade vs reinforced-lib (when $(RLIB_VENV) exists) and the compiled path.
bench-dqn: $(STAMP)
	$(BIN)/python benchmarks/dqn_cartpole.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/deep_step_costs.py

# RLib.save + RLib.load of 10,000 bandit instances and of a DQN with a full 50,000-transition buffer.
bench-checkpoint: $(STAMP)
	$(BIN)/python benchmarks/checkpoint.py $(BENCH_ARGS)

# The compiled Wi-Fi study against the facade (and reinforced-lib's ra-sim with BENCH_ARGS="--ra-sim-dir DIR").
bench-wifi: $(STAMP)
	$(BIN)/python benchmarks/wifi_study.py $(BENCH_ARGS)

# What a stdout or CSV logger adds to a facade step, for one instance and for K = 1,000.
bench-loggers: $(STAMP)
	$(BIN)/python benchmarks/loggers.py $(BENCH_ARGS)

# One sharded population on 1, 2 and 4 forced CPU devices and on two JAX processes.
bench-scaling: $(STAMP)
	$(BIN)/python benchmarks/scaling.py $(BENCH_ARGS)

# Per-call latency of an exported sample in IREE's runtime (drivers, CPU targets, iree-benchmark-module) beside JAX.
bench-export: $(STAMP)
	$(BIN)/python benchmarks/export.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(RLIB_VENV) docs/_build .pytest_cache

# --- ns-3 rate-manager bridge (issue 8, part 2) ---
# System packages for the ns-3 scenario: Debian bookworm's ns-3.37 and the C++ ZeroMQ/msgpack headers.
# Installs only when something is missing (needs root, as on CI).
NS3_APT_PACKAGES := libns3-dev libgsl-dev cppzmq-dev libzmq3-dev libmsgpack-cxx-dev pkg-config g++
NS3_BUILD := build/ns3
NS3_PKGS := ns3-core ns3-network ns3-wifi ns3-mobility ns3-internet ns3-applications
NS3_SCENARIO := $(NS3_BUILD)/wifi_ra

.PHONY: ns3-deps ns3-scenario ns3-calibration ns3-comparison bench-bridge

ns3-deps:
	@if pkg-config --exists ns3-wifi && test -f /usr/include/zmq.hpp && test -f /usr/include/msgpack.hpp \
	   && command -v g++ >/dev/null; then echo "ns-3 and the bridge's C++ packages are installed"; \
	 else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(NS3_APT_PACKAGES); fi

$(NS3_SCENARIO): native/ns3/wifi_ra.cc native/ns3/agentax-wifi-manager.h native/ns3/agentax-wifi-manager.cc
	mkdir -p $(NS3_BUILD)
	g++ -std=c++17 -O2 -o $@ native/ns3/wifi_ra.cc native/ns3/agentax-wifi-manager.cc \
	  $$(pkg-config --cflags --libs $(NS3_PKGS) libzmq)

ns3-scenario: $(NS3_SCENARIO)

# The constant-rate throughput table the JAX simulator is calibrated against.
ns3-calibration: $(NS3_SCENARIO) $(STAMP)
	$(BIN)/python benchmarks/ns3_calibration.py --scenario $(NS3_SCENARIO) --out tests/data/ns3_ax_throughput.json

# agentax agents through the bridge beside ns-3's own managers, on static and moving scenarios.
ns3-comparison: $(NS3_SCENARIO) $(STAMP)
	$(BIN)/python benchmarks/ns3_comparison.py --scenario $(NS3_SCENARIO) --out benchmarks/results/ns3_comparison.json

bench-bridge: $(NS3_SCENARIO) $(STAMP)
	$(BIN)/python benchmarks/bridge.py --scenario $(NS3_SCENARIO) $(BENCH_ARGS)

# SMPyBandits 0.9.7 (last release 2019), the reference of the non-stationary study, and Open Bandit
# Pipeline 0.5.7 (obp), the reference of the off-policy estimators, each in its own Python 3.10
# environment (both need Python < 3.11 and older numpy/scipy than agentax's).
PYTHON310 ?= $(shell PYENV_VERSION=3.10.13 python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3.10)
SMPY_VENV := .venv-smpy
OBP_VENV := .venv-obp
.PHONY: smpy-venv obp-venv obp-fixture nonstationary

smpy-venv: $(SMPY_VENV)/.installed-0.9.7

$(SMPY_VENV)/.installed-0.9.7:
	@test -n "$(PYTHON310)" || { echo "smpy-venv needs python3.10 (or PYTHON310=/path/to/python3.10)"; exit 1; }
	test -x $(SMPY_VENV)/bin/python || $(PYTHON310) -m venv $(SMPY_VENV)
	$(SMPY_VENV)/bin/python -m pip install --quiet 'smpybandits==0.9.7' 'numpy<2' 'scipy<1.12'
	touch $@

obp-venv: $(OBP_VENV)/.installed-0.5.7

$(OBP_VENV)/.installed-0.5.7:
	@test -n "$(PYTHON310)" || { echo "obp-venv needs python3.10 (or PYTHON310=/path/to/python3.10)"; exit 1; }
	test -x $(OBP_VENV)/bin/python || $(PYTHON310) -m venv $(OBP_VENV)
	$(OBP_VENV)/bin/python -m pip install --quiet 'obp==0.5.7' 'numpy<2' 'scikit-learn<1.3' 'pandas<2.1' 'scipy<1.12' 'matplotlib<3.9'
	touch $@

# The non-stationary study; with SMPyBandits' rows when $(SMPY_VENV) exists (`make smpy-venv`).
nonstationary: $(STAMP)
	$(BIN)/python -m agentax nonstationary --smpy-python $(SMPY_VENV)/bin/python $(STUDY_ARGS)

# obp's IPS/SNIPS/DM/DR on fixed inputs, stored for tests/test_ope.py.
obp-fixture: obp-venv
	$(OBP_VENV)/bin/python tests/data/make_obp_fixture.py
