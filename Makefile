# dojo-epos: `make demo` and `make test` are all a new user needs (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: help demo test lint style types bench reliability clean chromium wrk newman postman onefile

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# Debian packages some targets want: installed when missing and we may (root, apt available);
# otherwise $(2) is said and the target goes on without it. $(call apt_tool,COMMAND,WITHOUT IT,WHY)
define apt_tool
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's $(1) $(3)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else echo "$(1) not installed: $(2)"; fi; }
endef

# Browser tests drive Debian's chromium (never a downloaded browser); without it they skip, saying why.
chromium:
	$(call apt_tool,chromium,browser tests will skip,for the browser tests)

# The HTTP benchmarks use wrk (a C load generator that leaves the cores to the servers) when it is
# installed; without it they fall back to our own.
wrk:
	$(call apt_tool,wrk,the HTTP benchmarks use the Python load generator,for the HTTP benchmarks)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs the package alone (the `demo` extra): no playwright, schemathesis or test tools.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP) ## set up (the package only), then run the platform + reference EPOS + flows
	$(BIN)/dojo-epos demo

test: $(STAMP) chromium ## set up (with the test tools), then run lint, types and the test suite
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports
	@# Where PYTHONDONTWRITEBYTECODE is set (these machines set it), no process writes .pyc files,
	@# so each of the suite's hundreds of CLI and server processes compiled our sources again
	@# (about 0.4 s of CPU each); compileall writes them once (git ignores __pycache__).
	$(BIN)/python -m compileall -q src
	$(BIN)/pytest -m "not slow"

# newman (Postman's runner) from npm, installed once into build/newman (gitignored) and reused;
# tests/export/test_newman.py installs it the same way when it is missing (and skips without npm).
NEWMAN := build/newman/node_modules/.bin/newman
$(NEWMAN):
	npm install --prefix build/newman --no-audit --no-fund --loglevel error newman@6

newman: $(STAMP) $(NEWMAN) ## run both Postman collections with newman against a real platform and EPOS
	$(BIN)/pytest tests/export/test_newman.py -s -p no:randomly

postman: $(STAMP) ## write the Postman collections into build/postman
	$(BIN)/dojo-epos export postman --out build/postman

lint: $(STAMP) ## ruff
	$(BIN)/ruff check src tests

style: lint

types: $(STAMP) ## mypy --strict on src
	$(BIN)/mypy src

bench: $(STAMP) wrk ## benchmarks, as ratios against bare baselines
	$(BIN)/python -m benchmarks

reliability: $(STAMP) ## fuzzing, faults and the payment storm
	$(BIN)/pytest -m "slow" tests

# The single-file build: PyInstaller, installed into the dev virtualenv on first use (it is a
# build tool, not a dependency: the package's own installs never pull it).
ONEFILE_STAMP := $(VENV)/.installed-onefile
$(ONEFILE_STAMP): | $(STAMP)
	$(BIN)/pip install --quiet 'pyinstaller>=6.10,<7'
	touch $(ONEFILE_STAMP)

onefile: $(ONEFILE_STAMP) ## dist/dojo-epos: the CLI as one Linux executable (PyInstaller; cached)
	$(BIN)/python freeze/build_onefile.py --out dist/dojo-epos

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
