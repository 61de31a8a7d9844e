# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv and install firstday.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.base-stamp
DEV := $(VENV)/.dev-stamp

.PHONY: demo test lint setup clean

$(BASE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE)

$(DEV): $(BASE)
	# the CPU build of torch for the hf/ provider tests (pinned: a newer release would pull a CUDA build)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV)

setup: $(DEV)

demo: $(BASE)
	$(BIN)/firstday demo

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/mypy
	$(BIN)/mypy benchmarks/*.py scripts/*.py
	$(BIN)/mypy --strict examples/*.py
	$(BIN)/mypy tests

test: lint
	$(BIN)/pytest -n auto -q

clean:
	rm -rf $(VENV) firstday-demo .pytest_cache .mypy_cache .ruff_cache
