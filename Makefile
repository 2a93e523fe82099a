# gongkai — the two commands a new user needs: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test check lint typecheck bench clean

$(STAMP): pyproject.toml
	bash tools/system-packages.sh
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## run: set up, load the Shandong 2017 demo (and its synthetic second year) into the embedded SQLite database, print the ranking,
## and start the dashboard at http://localhost:8501
run: $(STAMP)
	$(BIN)/gongkai demo --years 2
	$(BIN)/gongkai score
	$(BIN)/gongkai serve

lint: $(STAMP)
	$(BIN)/ruff check scoring dashboard tests tools
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy scoring dashboard

## test: set up, lint, type-check scoring/, run the test suite on every core (benchmarks run once, untimed)
test: lint typecheck
	$(BIN)/pytest -q -n auto --dist worksteal

check: test

## bench: the pytest-benchmark figures
bench: $(STAMP)
	$(BIN)/pytest tests/benchmarks --benchmark-enable --benchmark-only -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
