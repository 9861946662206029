# Two commands: `make serve` and `make test`. Both set up .venv first (once, and again when
# pyproject.toml changes). torch==2.13.0 is installed before anything that depends on it, so pip
# takes the CPU build on this disk instead of fetching a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup serve test test-tools unit lint format eval bench bench-smoke clean

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
test: test-tools $(STAMP)
	$(BIN)/python -m pytest -q

test-tools:
	@test -x /usr/bin/chromium || { echo "make test: /usr/bin/chromium is missing; install it: sudo apt-get install -y chromium fonts-noto-color-emoji (.ci/run does)" >&2; exit 1; }
	@command -v wrk >/dev/null 2>&1 || { echo "make test: wrk is missing; install it: sudo apt-get install -y wrk (.ci/run does)" >&2; exit 1; }

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not bench"

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
