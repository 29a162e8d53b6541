# The two commands a newcomer needs: `make run` (the bot in local mode with the Agents Playground, no Azure)
# and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := -m pip install --disable-pip-version-check -q
# checkov and the Bicep parser pin versions the bot's packages clash with: they get a venv of their own.
INFRA_VENV := .venv-infra

.PHONY: run bot test lint bench translations infra-tools

# What App Service installs: enough to run the bot.
$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP) -r requirements.txt
	touch $@

# Runtime plus tests, lint and type checks.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP) -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# A complete pinned list installed with --no-deps, so no resolver runs (the file's header says why).
$(INFRA_VENV)/.installed: requirements-infra.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python $(PIP) --no-deps -r requirements-infra.txt
	touch $@

infra-tools: $(INFRA_VENV)/.installed

# requirements.txt alone, as App Service installs it: the startup-command test runs the bot from it. Made anew
# whenever requirements.txt changes, so a package left over from an earlier list cannot hide a missing one.
RUNTIME_VENV := .venv-runtime
$(RUNTIME_VENV)/.installed: requirements.txt
	rm -rf $(RUNTIME_VENV)
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python $(PIP) -r requirements.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m manifest playground

bot: $(VENV)/.runtime
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

# INFRA_TOOLS and RUNTIME_VENV make the infrastructure and startup-command tests fail (not skip) without their venvs.
test: lint $(INFRA_VENV)/.installed $(RUNTIME_VENV)/.installed
	$(PY) -m tests.azurite
	INFRA_TOOLS=$(INFRA_VENV)/bin RUNTIME_VENV=$(RUNTIME_VENV) $(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench
