# Two entry points for a fresh machine (see README): `make run` and `make test`.
# Both create .venv in the checkout and are idempotent: the install step reruns only
# when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# pytest-xdist workers; each loads the embedding model once.
JOBS ?= auto

.PHONY: setup run demo test lint format clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare `torch` pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(BIN)/memlens --demo

lint: setup
	$(BIN)/ruff check app plugins tests
	$(BIN)/ruff format --check app plugins tests

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n $(JOBS) -q

format: setup
	$(BIN)/ruff format app plugins tests
	$(BIN)/ruff check --fix app plugins tests

# Every benchmark and the budgets at 100,000 memories (under 15 minutes on 2 cores);
# updates docs/PERFORMANCE.md. BENCH_ARGS=--quick for 1k and 10k only.
bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
