# The two commands a newcomer needs: `make run` (the bot in local mode with the Agents Playground, no Azure)
# and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run bot test lint bench translations

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
	$(PY) -m dialogs.i18n check

# After changing a message in dialogs/cards/strings.py: refresh the catalogs, translate what `check` lists, compile.
translations: $(VENV)/.installed
	$(PY) -m dialogs.i18n update
	$(PY) -m dialogs.i18n compile
	$(PY) -m dialogs.i18n check

test: lint
	$(PY) -m tests.azurite
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench
