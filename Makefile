# Throughline: `make run` starts everything on one machine, `make test` runs the suite.
# Both create .venv and install on first use. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package at the version and hash `make lock` chose (README, "Installing").
LOCK := requirements/lock.txt

.PHONY: run test lint format lock bench bench-load migrations-check ci clean-state

# The locked versions first, so a release made since cannot change what runs; then the
# project itself, with the locked setuptools rather than whatever is newest.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Re-resolve the lock from pyproject.toml (with its dev and embedded extras) for Python
# 3.11 on linux x86_64. Pins that still satisfy pyproject are kept; UPGRADE=1 moves every
# package to its newest allowed release (the weekly .github/workflows/refresh-lock.yml).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev --extra embedded \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes \
		--custom-compile-command 'make lock' --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)

run: $(STAMP)
	$(BIN)/python -m quickstart

# The suite in parallel: one pytest-xdist worker per core (TEST_WORKERS=3 for another
# count), each with its own test database, kept between runs (README, "Tests"). The longest
# tests run first; worksteal lets an idle worker take some of another's. PYTEST_ARGS
# come last and win: `make test PYTEST_ARGS="-n0 tests/api"` runs those tests serially.
TEST_WORKERS ?= auto
# Python may cache compiled modules (some images set PYTHONDONTWRITEBYTECODE): otherwise
# every worker, live server and `manage.py` the suite starts compiles the project, its
# migrations and pytest's rewritten test modules again (about 11 s of a core per worker).
test: export PYTHONDONTWRITEBYTECODE =
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# types of the core and the webhook parsers (pyproject.toml, [tool.mypy])
	DEBUG=true $(BIN)/mypy
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
