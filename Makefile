# nrwkit: the two commands of the README, and a few for developers.
#   make demo   create .venv if missing, install nrwkit, run the main job into demo-workspace/
#   make test   create .venv if missing, install nrwkit with its test extras, run lint, types, tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_WORKSPACE ?= demo-workspace

.PHONY: demo test lint benchmark clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nrwkit needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-benchmark: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,benchmark]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/nrwkit inspect demo --out $(DEMO_WORKSPACE) --overwrite
	$(BIN)/nrwkit gis export demo $(DEMO_WORKSPACE)/network-results.gpkg --results --overwrite
	$(BIN)/nrwkit gis import networks/demo-utility/water_mains.gpkg $(DEMO_WORKSPACE)/from-gis.inp \
		--mapping networks/demo-utility/mapping.yaml --findings $(DEMO_WORKSPACE)/from-gis-repairs.gpkg \
		--year 2026 --overwrite
	@echo
	@echo "demo workspace: $(abspath $(DEMO_WORKSPACE))"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src cli tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

benchmark: $(VENV)/.installed-benchmark
	$(BIN)/python benchmarks/bench_inspect.py
	$(BIN)/python benchmarks/bench_gis.py

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
