# nrwkit: the two commands of the README, and a few for developers.
#   make demo   create .venv if missing, install nrwkit, run the main job into demo-workspace/
#               (recreated each time), ending with the path of its index report
#   make test   create .venv if missing, install nrwkit with its test extras, run lint (style, types,
#               complexity, layering: .importlinter and tests/test_architecture.py), then the tests
#   make docs   create .venv if missing (with the test extras), build the API reference from the numpydoc
#               docstrings with pdoc into build/docs/api/ (open build/docs/api/index.html)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_WORKSPACE ?= demo-workspace

.PHONY: demo test lint docs benchmark clean

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
	rm -rf $(DEMO_WORKSPACE)
	$(BIN)/nrwkit init $(DEMO_WORKSPACE) --network demo --name "Demo utility: NRW improvement track" \
		--mentor "Mentor utility" --mentee "Demo utility (L-Town)" --start 2026-01-15 --end 2028-01-14
	$(BIN)/nrwkit inspect $(DEMO_WORKSPACE)
	$(BIN)/nrwkit gis import networks/demo-utility/water_mains.gpkg $(DEMO_WORKSPACE)/outputs/from-gis.inp \
		--mapping networks/demo-utility/mapping.yaml --findings $(DEMO_WORKSPACE)/outputs/from-gis-repairs.gpkg \
		--report $(DEMO_WORKSPACE)/outputs/from-gis-report.html \
		--year 2026
	$(BIN)/nrwkit balance networks/demo-utility/balance-2025.yaml \
		--report $(DEMO_WORKSPACE)/outputs/balance-2025.html
	$(BIN)/nrwkit dma design $(DEMO_WORKSPACE) --size-by nodes --size 50:200 --seed 1
	$(BIN)/nrwkit pressure scenario $(DEMO_WORKSPACE) --inlet PRV-3 --target 20 --compare
	@echo
	@echo "index of the demo workspace (open it in a browser):"
	@$(BIN)/nrwkit report $(DEMO_WORKSPACE)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src cli tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider -o addopts= tests/test_architecture.py

test: lint
	$(BIN)/python -m pytest

docs: $(VENV)/.installed-test
	rm -rf build/docs/api
	$(BIN)/pdoc -d numpy -o build/docs/api nrwkit
	@echo "API reference: build/docs/api/index.html"

benchmark: $(VENV)/.installed-benchmark
	$(BIN)/python benchmarks/bench_inspect.py
	$(BIN)/python benchmarks/bench_gis.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_dma.py
	$(BIN)/python benchmarks/bench_dma_quality.py
	$(BIN)/python benchmarks/bench_leaks.py

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
