# Everything a fresh machine needs, from Python 3.11+ and make alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNS ?= runs
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench demo clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	@if [ -z "$$(ls -A $(RUNS) 2>/dev/null)" ]; then $(BIN)/tracker demo $(RUNS); fi
	$(BIN)/tracker-app $(RUNS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in bench/bench_*.py; do QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/tracker demo $(RUNS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
