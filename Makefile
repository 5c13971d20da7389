# govcloud: `make up` brings everything up, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat setup.cfg $(LOCK) 2>/dev/null | sha256sum | cut -c1-16)
# Test processes (pytest-xdist): the suite mostly waits on the cloud, so more than the cores.
TEST_WORKERS ?= 4
export GOVCLOUD_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test

.PHONY: venv sysdeps services devcloud up down status test test-unit bench lock clean

$(STAMP): setup.cfg $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c $(LOCK) -e '.[test]'
	rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

## Debian packages the tests and the portal need (installed only when missing).
sysdeps:
	scripts/sysdeps.sh

## PostgreSQL, MariaDB and RabbitMQ on their standard ports (started only when down).
services: sysdeps
	scripts/services.sh

devcloud: services
	devcloud/up

up: venv devcloud
	scripts/portal-up

down:
	-scripts/portal-down
	devcloud/down

status:
	devcloud/status

test: venv devcloud
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile tests

test-unit: venv
	$(BIN)/python -m pytest tests/unit

bench: venv devcloud
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Re-resolve the pinned versions after changing setup.cfg's requirements.
lock:
	rm -rf /tmp/govcloud-lock && $(PYTHON) -m venv /tmp/govcloud-lock
	/tmp/govcloud-lock/bin/pip install -q --upgrade pip
	/tmp/govcloud-lock/bin/pip install -q -e '.[test]'
	/tmp/govcloud-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > $(LOCK)

clean:
	rm -rf $(VENV) build *.egg-info
