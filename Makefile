# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is
# installed here: the virtualenv, the services (Debian packages, Elasticsearch via Maven).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REGISTRY := $(BIN)/registry
DEMO_PARTIES ?= 5000
DEMO_BANKS ?= 4

.PHONY: venv services schema demo test unit lint down status clean

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
	@trap '$(REGISTRY) services down' EXIT; \
	  $(REGISTRY) worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; $(REGISTRY) services down' EXIT INT TERM; \
	  $(REGISTRY) serve --host 127.0.0.1 --port 5000

test: services lint
	$(BIN)/pytest

unit: venv
	$(BIN)/pytest tests/unit

lint: venv
	$(BIN)/lint-imports

down:
	@if [ -x $(REGISTRY) ]; then $(REGISTRY) services down; fi

status: venv
	$(REGISTRY) services status

clean: down
	rm -rf $(VENV) .local var
