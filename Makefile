# Two commands do all the set-up on a fresh Debian/Ubuntu machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python >= 3.12 only: 3.11 + PySide6 6.12.0 + qasync crashes (docs/architecture.md).
PYTHON ?= $(shell for p in python3.12 python3.13 /root/.pyenv/versions/3.12*/bin/python3.12 \
	/root/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.13 python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo "$$p" && break; done)
PYTEST_ARGS ?=

.PHONY: run test lint fmt hub field bench screenshots clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 is required (python3.12 or python3.13 on PATH)"; exit 1; }
	test -x $(BIN)/python || "$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

## The main job on the embedded default: hub + demo data + simulated calls + console.
run: $(BIN)/.installed
	$(BIN)/python main.py

## Lint, import contracts, the whole test suite.
test: $(BIN)/.installed lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## The hub alone with demo data, and the simulator's demo stream against it.
hub: $(BIN)/.installed
	$(BIN)/safe-connection-hub --demo
field: $(BIN)/.installed
	$(BIN)/safe-connection-field --hub http://127.0.0.1:8470 --demo

bench: $(BIN)/.installed
	for b in bench/bench_*.py; do $(BIN)/python $$b; done

## Refresh the pictures in docs/: the console at 1366x768 (offscreen; a real hub, the field
## simulator's live call) and the field page in Chromium. Only this target writes into docs/;
## tests and a bare `bench/screenshots.py` write to artifacts/ (git-ignored).
SCREENSHOT_DIR ?= docs
screenshots: $(BIN)/.installed
	QT_QPA_PLATFORM=offscreen SC_SCREENSHOT_DIR=$(SCREENSHOT_DIR) $(BIN)/python bench/screenshots.py
	QT_QPA_PLATFORM=offscreen SC_SCREENSHOT_DIR=$(SCREENSHOT_DIR) $(BIN)/python -m pytest -q \
		-p no:cacheprovider tests/browser/test_field_call.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache artifacts
