# The README's two commands (`make run`, `make test`) and helpers. `make check` is the
# fast loop while coding: the suite without the slow tests (processes started, packages
# built) and the browser tests, over every core; `make test` runs everything, also in
# parallel (pytest-xdist; tests/browser stay one module per worker).
# Every HUB_* variable in the environment reaches the hub, e.g.
#   HUB_PORT=8081 HUB_DATA_DIR=./var2 make run

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*)
STAMP := $(VENV)/.installed
# The browser tests (tests/browser) drive Debian's Chromium through Playwright.
CHROMIUM ?= /usr/bin/chromium
# The email tests start Debian's Dovecot (dovecot-imapd) as their IMAP server.
DOVECOT ?= /usr/sbin/dovecot

.PHONY: run test check install lint bench clean demo messages routes

# Bytecode for the project's own modules before a test run. Where PYTHONDONTWRITEBYTECODE
# is set (as on our CI machines) nothing is cached otherwise, and every process the tests
# start (hub commands, scaffolded plugins, a second hub) compiled every module again,
# seconds each; the installed packages are compiled at install (--compile-bytecode), and
# the project's own modules then too, for the `hub` commands run outside the tests.
COMPILE = $(BIN)/python -m compileall -q -j 0 hub admin_ui plugins examples >/dev/null

run: $(STAMP)
	$(COMPILE)
	$(BIN)/hub serve

# Fill an empty hub with a demo workspace (hub demo): it prints the logins.
demo: $(STAMP)
	$(BIN)/hub demo

test: $(STAMP) $(CHROMIUM) $(DOVECOT)
	$(COMPILE)
	HUB_TEST_CHROMIUM=$(CHROMIUM) HUB_DOVECOT=$(DOVECOT) $(BIN)/pytest -n auto --durations=25

check: $(STAMP)
	$(COMPILE)
	$(BIN)/pytest -m "not slow and not browser" -n auto

# lint-imports: the layer rule and the plugins' imports (pyproject's [tool.importlinter],
# docs/architecture.md); the example plugin is not installed, so it is put on the path.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=examples/echo_channel $(BIN)/lint-imports

install: $(STAMP)

# The route tables the hub's routers are filled from (hub/api/lazy_routes.py), written
# again from the handlers' declarations: after adding, renaming or removing a route
# (tests/test_route_tables.py fails until then).
routes: $(STAMP)
	$(BIN)/python -m admin_ui.route_source
	$(BIN)/python -m hub.api.route_source

# The UI's translations (docs/i18n.md): extract every marked string into the template
# catalog, then merge it into each language's .po (new ids empty, gone ones dropped).
# Sorted, with file names but no line numbers, so unrelated edits leave the catalogs alone.
# The hub compiles the .po files itself when it starts (no .mo in git, no build step).
LOCALE := admin_ui/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(LOCALE)/babel.cfg -k N_ --sort-output --add-location=file \
	  --no-wrap --project="Inbox Hub" --copyright-holder="Inbox Hub contributors" \
	  -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages \
	  --no-fuzzy-matching --ignore-obsolete --no-wrap

# A benchmark (see bench/README.md): BENCH=inbox_views (default) or BENCH=ingest,
# with options in BENCH_ARGS, e.g. make bench BENCH=ingest BENCH_ARGS="--db postgresql".
BENCH ?= inbox_views
bench: $(STAMP)
	$(BIN)/python bench/$(BENCH).py $(BENCH_ARGS)

# Re-install when any pyproject changes (entry points live in package metadata).
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode -p $(BIN)/python -e '.[test]' $(addprefix -e ,$(PLUGINS))
	$(COMPILE)
	touch $@

# Installed when missing, as root on Debian; elsewhere the message says what to do.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium; \
	else \
	  echo "The browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium'," >&2; \
	  echo "or point CHROMIUM=/path/to/chromium at another build." >&2; exit 1; \
	fi

# Installed when missing, as root on Debian; elsewhere the email tests skip without it.
$(DOVECOT):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends dovecot-imapd; \
	  systemctl disable --now dovecot >/dev/null 2>&1 || true; \
	else \
	  echo "The email tests need Dovecot at $(DOVECOT): run 'sudo apt-get install dovecot-imapd'" >&2; \
	  echo "(they start it themselves from a config of their own), or point DOVECOT= at it." >&2; \
	  echo "Without it they are skipped, except where CI or HUB_REQUIRE_DOVECOT is set." >&2; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
