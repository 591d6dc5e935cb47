# Hromada GIS — two commands for a newcomer:
#   make run    set everything up, load the demo city of Kyiv, serve http://127.0.0.1:8000
#   make test   the whole suite on a throwaway PostGIS and a real Chromium
# Both are idempotent and quiet on success.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .make
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: run test deps assets lint typecheck bench clean distclean help

help:
	@echo "make run | make test | make lint | make typecheck | make bench | make clean"

run: deps
	@$(BIN)/hromada run

# The suite runs on every core (pytest-xdist; each worker its own PostgreSQL cluster, demo
# cities and browser), at most four; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: deps $(STAMPS)/system-test
	@$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --maxprocesses=4 --durations=10

deps: $(STAMPS)/system-run $(STAMPS)/venv $(STAMPS)/assets

$(STAMPS)/system-run: scripts/system-deps.sh
	@mkdir -p $(STAMPS)
	@scripts/system-deps.sh run
	@touch $@

$(STAMPS)/system-test: scripts/system-deps.sh
	@mkdir -p $(STAMPS)
	@scripts/system-deps.sh test
	@touch $@

# The virtualenv, with every version pinned by constraints.txt (what CI tested).
$(STAMPS)/venv: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' \
		> $(STAMPS)/pip.log 2>&1 || { cat $(STAMPS)/pip.log; exit 1; }
	@touch $@

# Leaflet and its plugins come from the npm registry at setup: nothing third-party is committed
# and nothing is loaded from a CDN at run time.
$(STAMPS)/assets: webmap/package.json webmap/package-lock.json webmap/install-assets.sh
	@mkdir -p $(STAMPS)
	@webmap/install-assets.sh > $(STAMPS)/npm.log 2>&1 || { cat $(STAMPS)/npm.log; exit 1; }
	@touch $@

assets: $(STAMPS)/assets

lint: deps
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

# mypy over the packages listed under [tool.mypy] in pyproject.toml.
typecheck: deps
	@$(BIN)/mypy

# The benchmarks also need wrk (the load generator) and mapbox-vector-tile (tile decoding).
$(STAMPS)/bench-deps: pyproject.toml constraints.txt scripts/system-deps.sh $(STAMPS)/venv
	@scripts/system-deps.sh bench
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,bench]' \
		> $(STAMPS)/pip-bench.log 2>&1 || { cat $(STAMPS)/pip-bench.log; exit 1; }
	@touch $@

bench: deps $(STAMPS)/bench-deps
	@$(BIN)/python bench/run.py

clean:
	@rm -rf $(STAMPS) .pytest_cache .mypy_cache .ruff_cache
	@find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes the embedded database with everything loaded into it.
distclean: clean
	@test ! -x $(BIN)/hromada || $(BIN)/hromada db stop >/dev/null 2>&1 || true
	@rm -rf $(VENV) .hromada webmap/node_modules webmap/static/vendor
