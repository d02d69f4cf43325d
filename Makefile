# dojo-epos: `make demo` and `make test` are all a new user needs (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help demo test lint style types bench reliability clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) ## set up, then run the whole system locally (platform + reference EPOS + flows)
	$(BIN)/dojo-epos demo

test: $(STAMP) ## set up, then run lint, types and the test suite
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/pytest

lint: $(STAMP) ## ruff
	$(BIN)/ruff check src tests

style: lint

types: $(STAMP) ## mypy --strict on src
	$(BIN)/mypy src

bench: $(STAMP) ## benchmarks, as ratios against bare baselines
	$(BIN)/python -m benchmarks

reliability: $(STAMP) ## fuzzing, faults and the payment storm
	$(BIN)/pytest -m "slow" tests

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
