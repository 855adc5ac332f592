# Everything a fresh machine needs, from Python 3.11+ and make alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNS ?= runs
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench demo clean bytecode

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[app,test,serve]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Python writes these caches itself on first import, unless it may not (PYTHONDONTWRITEBYTECODE,
# a read-only checkout); compiling the app's ~60 modules at every start costs ~0.1 s (measured).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q app tracker >/dev/null

run: $(STAMP) bytecode
	@if [ -z "$$(ls -A $(RUNS) 2>/dev/null)" ]; then $(BIN)/tracker demo $(RUNS); fi
	$(BIN)/tracker-app $(RUNS)

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Rules and line length: [tool.ruff] in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check tracker app bench tests examples

bench: $(STAMP) bytecode
	for b in bench/bench_*.py; do QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/tracker demo $(RUNS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
