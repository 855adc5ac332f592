# Everything a fresh machine needs, from Python 3.11+ and make alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNS ?= runs
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench demo clean bytecode postgres

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[app,test,serve,postgres]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Python writes these caches itself on first import, unless it may not (PYTHONDONTWRITEBYTECODE,
# a read-only checkout); compiling the app's ~60 modules at every start costs ~0.1 s (measured).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q app tracker >/dev/null

run: $(STAMP) bytecode
	@if [ -z "$$(ls -A $(RUNS) 2>/dev/null)" ]; then $(BIN)/tracker demo $(RUNS); fi
	$(BIN)/tracker-app $(RUNS)

# The PostgreSQL tests start a throwaway server from the machine's own binaries (tests/postgres_server.py);
# Debian's package provides them when missing (as root, or through passwordless sudo).
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "PostgreSQL is not installed and cannot be installed here: its tests will be skipped"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

test: $(STAMP) lint postgres
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Rules and line length: [tool.ruff] in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check tracker app bench tests examples

bench: $(STAMP) bytecode postgres
	for b in bench/bench_*.py; do QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/tracker demo $(RUNS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
