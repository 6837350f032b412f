# Quick start: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds
DEMO_POLICIES := --policy syracuse --policy nyc --policy clinton --policy cottonwood --policy minnesota_model

.PHONY: demo demo-full test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package is installed editable, so source changes need no reinstall; only pyproject.toml (dependencies,
# entry points) does. A stamp per extra remembers the install, so a second `make demo` starts at once.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# A summary: decisions per policy and totals. `make demo-full` prints every verdict with its clauses.
demo: install
	$(BIN)/policykit check $(DEMO_POLICIES) --format summary examples/events/

demo-full: install
	$(BIN)/policykit check $(DEMO_POLICIES) examples/events/

# The quote checks need the source texts: a SEEDS given (command line or environment) must exist; the default one
# may be absent (a clone without ../shared), and then the skip is said out loud.
test: install-test
	@if [ ! -d "$(SEEDS)" ]; then \
	  if [ "$(origin SEEDS)" != "file" ]; then echo "make test: SEEDS=$(SEEDS) is not a directory" >&2; exit 2; fi; \
	  echo "note: $(SEEDS) not found; quotes are not checked against the source texts (make test SEEDS=DIR)"; \
	fi
	POLICYKIT_SOURCES=$(SEEDS) $(BIN)/python -m pytest
	$(BIN)/policykit lint $(if $(wildcard $(SEEDS)),--sources $(SEEDS)) policies/
	$(BIN)/policykit test policies/ examples/
	$(BIN)/policykit fmt --check policies/ examples/

clean:
	rm -rf $(VENV) build src/*.egg-info
