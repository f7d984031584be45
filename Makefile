# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is
# installed here: the virtualenv, the services (Debian packages, Elasticsearch via Maven).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REGISTRY := $(BIN)/registry
DEMO_PARTIES ?= 5000
DEMO_BANKS ?= 4

.PHONY: venv services schema browser demo test unit e2e lint bench-quality down status clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

services: venv
	$(REGISTRY) services up

schema: services
	$(REGISTRY) db upgrade

# Serves http://127.0.0.1:5000 until Ctrl-C; then stops the worker and our services.
demo: schema
	$(REGISTRY) seed --parties $(DEMO_PARTIES) --banks $(DEMO_BANKS) --out var/extracts/demo
	$(REGISTRY) demo-users
	$(REGISTRY) index rebuild --if-older
	@trap '$(REGISTRY) services down' EXIT; \
	  $(REGISTRY) worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; $(REGISTRY) services down' EXIT INT TERM; \
	  $(REGISTRY) serve --host 127.0.0.1 --port 5000

# Debian's Chromium (and a font to draw text with) for the browser tests in tests/e2e;
# Playwright drives it and never downloads a browser of its own. Set REGISTRY_CHROMIUM to
# use another build instead.
BROWSER_PACKAGES := chromium fonts-dejavu-core
browser: venv
	@if [ -z "$$REGISTRY_CHROMIUM" ] && ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing $(BROWSER_PACKAGES) (Debian)"; \
	  $(BIN)/python -c 'import sys; from registry.localservices.base import apt_install; apt_install(*sys.argv[1:])' $(BROWSER_PACKAGES); \
	fi

test: services lint browser
	$(BIN)/pytest

# Only the browser tests (they take the services too); screenshots land in var/screenshots.
e2e: services browser
	$(BIN)/pytest tests/e2e

# Run by hand (bench/README.md): pyarrow, for the name data's parquet file, is only needed here.
bench-quality: services
	$(BIN)/pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m bench.search_quality

unit: venv
	$(BIN)/pytest tests/unit

lint: venv
	$(BIN)/lint-imports
	$(BIN)/mypy

down:
	@if [ -x $(REGISTRY) ]; then $(REGISTRY) services down; fi

status: venv
	$(REGISTRY) services status

clean: down
	rm -rf $(VENV) .local var
