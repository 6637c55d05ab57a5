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

.PHONY: demo test test-fast docs bench bench-dqn bench-venv bench-wifi clean

.PHONY: demo test test-fast docs bench bench-dqn bench-venv clean bench-loggers

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

# DQN on CartPole-v1: facade vs reinforced-lib (when $(RLIB_VENV) exists) and the compiled path.
bench-dqn: $(STAMP)
	$(BIN)/python benchmarks/dqn_cartpole.py $(BENCH_ARGS)

# RLib.save + RLib.load of 10,000 bandit instances and of a DQN with a full 50,000-transition buffer.
bench-checkpoint: $(STAMP)
	$(BIN)/python benchmarks/checkpoint.py $(BENCH_ARGS)

# The compiled Wi-Fi study against the facade (and reinforced-lib's ra-sim with BENCH_ARGS="--ra-sim-dir DIR").
bench-wifi: $(STAMP)
	$(BIN)/python benchmarks/wifi_study.py $(BENCH_ARGS)

# What a stdout or CSV logger adds to a facade step, for one instance and for K = 1,000.
bench-loggers: $(STAMP)
	$(BIN)/python benchmarks/loggers.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(RLIB_VENV) docs/_build .pytest_cache
