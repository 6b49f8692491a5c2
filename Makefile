# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := DJANGO_ENV=local $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# The site reaches its own sandbox over HTTP, so it must know where `make run` serves it.
SANDBOX_BASE_URL ?= http://$(HOST):$(PORT)/sandbox
export SANDBOX_BASE_URL

.PHONY: help setup run test lint format check-python browser-deps bench

help:
	@echo "make run   - set up from nothing, seed the sandbox and demo accounts, serve http://$(HOST):$(PORT)"
	@echo "make test  - set up from nothing and run lint and the whole test suite"
	@echo "make bench - the performance benchmarks (docs/performance.md) against a sandbox in another process"

check-python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), f"Python 3.12 is needed, found {sys.version.split()[0]}"'

$(BIN)/.installed: pyproject.toml requirements.lock | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build/frontend/.built: node_modules/.installed scripts/build_frontend.py $(BIN)/.installed
	$(BIN)/python scripts/build_frontend.py
	touch $@

setup: $(BIN)/.installed build/frontend/.built
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0

# The task worker (settling bookings whose outcome is not yet known, sending messages) and the
# clock that enqueues the earlier-appointment alert cycle run beside the server, and stop with it.
run: setup
	$(MANAGE) generate_keys
	$(MANAGE) seed_sandbox --if-empty
	$(MANAGE) seed_sandbox --if-empty --json > var/sandbox-directory.json
	$(MANAGE) load_practice_directory var/sandbox-directory.json
	$(MANAGE) seed_demo_accounts --patients var/sandbox-directory.json
	trap 'kill 0' EXIT; \
	(while true; do $(MANAGE) db_worker --no-reload; sleep 2; done) & \
	(while true; do $(MANAGE) run_clock; sleep 2; done) & \
	DJANGO_ENV=local $(BIN)/uvicorn booking_site.asgi:application --host $(HOST) --port $(PORT) --lifespan on

# Browser tests drive Debian's chromium. Install it when we can; say so loudly when we cannot.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian chromium for the browser tests"; \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	    || echo "!!! WARNING: could not install chromium: browser tests will be SKIPPED !!!"; \
	else \
	  echo "!!! WARNING: /usr/bin/chromium is missing and cannot be installed here: browser tests will be SKIPPED !!!"; \
	fi

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/lint-imports

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint templates --reformat --quiet || true

test: $(BIN)/.installed build/frontend/.built browser-deps lint
	$(BIN)/pytest

# Timing lives here, never in tests: each script serves a throwaway sandbox on 127.0.0.1 and
# prints its figures against the targets of issue 3 (README, Performance).
bench: setup browser-deps
	$(BIN)/python benchmarks/run_all.py
