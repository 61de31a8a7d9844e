# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv and install firstday.
# What each target downloads, and how big the venv gets, is in the README ("Install sizes").
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.base-stamp
DEV := $(VENV)/.dev-stamp
HF := $(VENV)/.hf-stamp
# torch is only for the hf/ provider's generation test (`make test-hf`), kept out of the dev set: PyPI's Linux
# x86_64 wheels are CUDA builds (torch 2.13.0: a 527 MB wheel that pulls several GB of CUDA libraries).
# CI's machine holds the CPU build of this release locally, so pip takes that. Elsewhere, for the CPU build:
#   make test-hf TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: demo test test-hf lint setup clean

$(BASE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE)

$(DEV): $(BASE)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV)

$(HF): $(DEV)
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"
	touch $(HF)

setup: $(DEV)

demo: $(BASE)
	$(BIN)/firstday demo

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/mypy
	$(BIN)/mypy benchmarks/*.py scripts/*.py
	$(BIN)/mypy --strict examples/*.py
	$(BIN)/mypy tests

# the whole suite; the hf/ tests that generate text with a local model need torch and skip without it
test: lint
	$(BIN)/pytest -n auto -q

# adds torch, then runs the hf/ provider's tests, generation included (.ci/run runs it after `make test`)
test-hf: $(HF)
	$(BIN)/pytest -q -p no:cacheprovider tests/test_models_hf.py

clean:
	rm -rf $(VENV) firstday-demo .pytest_cache .mypy_cache .ruff_cache
