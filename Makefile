# Quick start: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

demo: install
	$(BIN)/policykit check --policy syracuse --policy nyc --policy clinton --policy cottonwood --policy minnesota_model examples/events/

test: install-test
	POLICYKIT_SOURCES=$(SEEDS) $(BIN)/python -m pytest
	$(BIN)/policykit lint $(if $(wildcard $(SEEDS)),--sources $(SEEDS)) policies/
	$(BIN)/policykit test policies/ examples/
	$(BIN)/policykit fmt --check policies/ examples/

clean:
	rm -rf $(VENV) build src/*.egg-info
