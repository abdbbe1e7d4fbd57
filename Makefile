# The README's two commands (`make run`, `make test`) and helpers.
# Every HUB_* variable in the environment reaches the hub, e.g.
#   HUB_PORT=8081 HUB_DATA_DIR=./var2 make run

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*)
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

run: $(STAMP)
	$(BIN)/hub serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(STAMP)

# A benchmark (see bench/README.md): BENCH=inbox_views (default) or BENCH=ingest,
# with options in BENCH_ARGS, e.g. make bench BENCH=ingest BENCH_ARGS="--db postgresql".
BENCH ?= inbox_views
bench: $(STAMP)
	$(BIN)/python bench/$(BENCH).py $(BENCH_ARGS)

# Re-install when any pyproject changes (entry points live in package metadata).
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet -p $(BIN)/python -e '.[test]' $(addprefix -e ,$(PLUGINS))
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
