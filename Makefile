# The two commands a newcomer needs: `make run` (the bot in local mode with the Agents Playground, no Azure)
# and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run bot test lint bench

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m manifest playground

bot: $(VENV)/.installed
	$(PY) app.py

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m tests.azurite
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench
