# The two commands the README promises: `make run` and `make test`.
# Everything they need is installed here, from the project's own files.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The real Salesforce clients the tests drive (jsforce, the sf CLI) and the Node 22 they
# need, from tests/clients/js/package-lock.json; reinstalled only when the lock changes.
JS       := tests/clients/js
JS_STAMP := $(JS)/node_modules/.installed

.PHONY: run test lint typecheck unit browser nginx clients bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The project itself, editable and without dependencies (pinned above): its installed
	# metadata is where sfdc.__version__, and so /openapi.json, read the version.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## Serve locally against the emulator, with a throwaway key; prints a curl line.
run: $(STAMP)
	$(BIN)/python scripts/run_local.py

## Lint, type-check and run every test.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) browser nginx clients
	$(BIN)/pytest

## Debian's nginx: the TLS front, standing in for Cloud Foundry's router, in the client tests.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx-light; }

## jsforce, the sf CLI and Node 22 (the npm package `node`), exactly as locked.
clients: $(JS_STAMP)

$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

## Debian's Chromium and ChromeDriver, for the test that connects an org in a browser.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

## Performance figures, as ratios taken in one run (SCENARIOS="proxy signing" for some).
bench: $(STAMP)
	$(BIN)/python bench/run.py $(SCENARIOS)

clean:
	rm -rf $(VENV) $(JS)/node_modules .local .mypy_cache .pytest_cache .ruff_cache build *.egg-info
