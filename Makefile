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

.PHONY: demo test test-fast docs bench bench-dqn bench-venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m agentax

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

clean:
	rm -rf $(VENV) $(RLIB_VENV) docs/_build .pytest_cache

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
