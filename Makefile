# Two commands: `make serve` and `make test`. Both set up .venv first (once, and again when
# pyproject.toml changes). torch==2.13.0 is installed before anything that depends on it, so pip
# takes the CPU build on this disk instead of fetching a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup serve test test-datasets test-tools unit lint format eval bench bench-smoke clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

serve: $(STAMP)
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

# The browser tests need Debian's Chromium and the HTTP bench test needs wrk: missing, they are
# a clear failure here rather than skipped tests (.ci/run installs both).
# Everything a clone of the repository alone can run (nothing beside it is read).
test: test-tools $(STAMP)
	$(BIN)/python -m pytest -q --durations=15 -m "not datasets"

# The tests that read the public QA sets in ../shared/datasets (or QA_DATASETS_DIR), which the
# team keeps beside the clone; CI runs this after `make test`. Missing, it fails, never skips.
DATASETS_DIR ?= $(or $(QA_DATASETS_DIR),../shared/datasets)

test-datasets: $(STAMP)
	@test -d "$(DATASETS_DIR)" || { echo "make test-datasets: $(DATASETS_DIR) is missing (set QA_DATASETS_DIR)" >&2; exit 1; }
	QA_DATASETS_DIR="$(abspath $(DATASETS_DIR))" $(BIN)/python -m pytest -q -m datasets

# The suite needs Debian's Chromium (browser tests) and wrk (HTTP benchmark): installed here when
# missing and we are root (as in CI), otherwise a clear failure naming the command; never a skip.
TOOLS_MISSING = $(strip $(if $(wildcard /usr/bin/chromium),,chromium fonts-noto-color-emoji) $(if $(shell command -v wrk),,wrk))

test-tools:
ifneq ($(TOOLS_MISSING),)
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y $(TOOLS_MISSING); \
	else \
	  echo "make test: missing $(TOOLS_MISSING); install: sudo apt-get install -y $(TOOLS_MISSING)" >&2; exit 1; \
	fi
endif

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not bench and not datasets"

# Full benchmark run (about half an hour on 2 cores); writes bench/reports/latest.md.
bench: $(STAMP)
	$(BIN)/qa bench

bench-smoke: $(STAMP)
	$(BIN)/qa bench --smoke --out bench/reports/smoke

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) index/current index/v-* index/.tmp-* index/.lock
