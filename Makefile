# viberator-workers: the two everyday commands are `make plan` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK ?= dev
FORMAT ?= text
CONFIG ?=
PROJECT ?=

# Make variables reach the tools as data, never as shell or make code: `$(call quote,NAME)` is variable NAME's raw
# value (`$(value …)`: what was typed, unexpanded) as one single-quoted shell word; `quote_text` quotes text. The
# variables a user sets are not exported either, since make expands a command-line variable as it exports it
# (`HARNESS='$(shell …)'` would run at that point): the recipes hand them over as arguments.
quote_text = '$(subst ','\'',$(1))'
quote = $(call quote_text,$(value $(1)))
# `--option 'value'` when variable NAME is set: $(call option,--option,NAME).
option = $(if $(value $(2)),$(1) $(call quote,$(2)))
USER_VARIABLES := STACK FORMAT CONFIG PROJECT PREVIEW STACK_OUTPUTS DIFF BASE HARNESS REGISTRY PLATFORM IMAGE_ENV \
	ALIAS_TAG BUILD_ARGS REVISION PUSH VERSION OFFLINE REBUILD FROM_STACK OUTPUTS CLANKER JOB LOCAL FAKE_AGENT AGENT \
	UPGRADE IMAGE_BASES

export UV_PYTHON_DOWNLOADS := never
# Trust the machine's certificate store (which may hold a proxy's CA) rather than only uv's bundled roots.
export UV_SYSTEM_CERTS := 1
# uv comes from PyPI when the machine lacks it; installed into the user's local bin.
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen --quiet
# The synced environment's interpreter: `uv run` would check the sync again (0.1-0.5 s) on every plan, which
# .venv/.synced has already settled.
PYTHON := .venv/bin/python
# stdout is the commands' own: the setup steps' output goes to stderr, so `make plan FORMAT=json > plan.json`
# holds exactly the plan's one JSON document (`make -C <dir>` prints its directory there: add --no-print-directory).

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-16s %s\n",$$1,$$2}'

$(UV):
	@echo "installing uv" >&2
	@(python3 -m pip install --quiet --user uv || python3 -m pip install --quiet --user --break-system-packages uv) >&2

# Byte-compile at install (pulumi_aws modules are large and would otherwise be compiled on every run), and only
# there: with UV_COMPILE_BYTECODE set, every `uv run` compiles the whole environment again (8,000 files, ~1 s of
# CPU per lint step and per make target the tests run; astral-sh/uv issue #12202).
UV_SYNC := $(UV) sync --frozen --quiet --compile-bytecode

.venv/.synced: pyproject.toml uv.lock | $(UV)
	@echo "$(UV) sync --frozen --compile-bytecode" >&2
	@$(UV_SYNC) >&2
	@touch $@

.PHONY: deps
deps: .venv/.synced ## Install the locked Python environment

# The tool exits 2 for an invalid config and 1 for a crash; make names which (`Error 2`, `Error 1`) on stderr
# and, as make does for any failed recipe, exits 2 itself.
.PHONY: plan
# A review stack pr-<n> without a file in the project: the review tooling makes it from stacks/review.yaml as CI
# does (ci/review_stack_file.py) into build/stacks/, and the engine plans that file.
REVIEW_STACK_FILE = $(if $(and $(filter pr-%,$(value STACK)),$(if $(value CONFIG)$(filter access,$(value PROJECT)),,yes),$(if $(wildcard Pulumi.$(value STACK).yaml),,yes)),build/stacks/Pulumi.$(value STACK).yaml)
plan: deps ## Offline plan: STACK=dev|prod, PROJECT=access (STACK=dev|prod|github: CI's authority, access/), CONFIG=Pulumi.x.yaml, FORMAT=text|json, PREVIEW=1|first, DIFF=<git ref>|<plan.json> (what a change does), STACK_OUTPUTS=<org/project/stack>=<file>
	@$(if $(REVIEW_STACK_FILE),$(PYTHON) -m ci.review_stacks stack-file --pr $(call quote_text,$(patsubst pr-%,%,$(value STACK))) --output $(call quote_text,$(REVIEW_STACK_FILE)) >/dev/null &&) \
	$(PYTHON) -m offline_plan $(call option,--project,PROJECT) $(if $(value CONFIG),--config $(call quote,CONFIG),$(if $(REVIEW_STACK_FILE),--config $(call quote_text,$(REVIEW_STACK_FILE)),--stack $(call quote,STACK))) --format $(call quote,FORMAT) $(if $(value PREVIEW),--preview $(if $(filter first,$(value PREVIEW)),first,update)) $(foreach ref,$(value STACK_OUTPUTS),--stack-outputs $(call quote_text,$(ref))) $(call option,--diff,DIFF)

.PHONY: test lint typecheck
# Two workers (pytest-xdist), a test file per worker at a time (module fixtures are planned once): the 2-core
# machine's both cores. bench/tests.py runs the same selection.
TEST_SELECTION := -n 2 --dist loadfile -m "not images and not checkov"
# The checkov tests need checkov's own environment: `make test-checkov` installs it and runs them (CI runs both).
# mypy runs beside pytest, its report printed after pytest's: from a cold cache (CI's clean clone) it is ~25 s of
# one core, which pytest's two workers share instead of waiting for (warm, about a second).
test: lint ## All fast tests (config, components, whole program, contracts, guardrails, runtime) and lint
	@echo "$(RUN) mypy (beside pytest) && $(RUN) pytest -q $(TEST_SELECTION)"
	@typecheck=$$(mktemp); $(RUN) mypy > "$$typecheck" 2>&1 & mypy=$$!; \
	$(RUN) pytest -q $(TEST_SELECTION); tests=$$?; \
	wait $$mypy; typed=$$?; cat "$$typecheck"; rm -f "$$typecheck"; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

lint: deps ## ruff; import-linter's floors (pyproject [tool.importlinter]); actionlint + zizmor on the workflows; hadolint on the Dockerfile
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports --no-cache
	@$(MAKE) --no-print-directory lint-workflows lint-images

typecheck: deps ## mypy over the program, the plan engine, the tooling, the policy pack and the CI scripts
	$(RUN) mypy

.PHONY: schema
docs: deps ## Write the configuration reference (docs/configuration-reference.md) from the config models' field descriptions
	@$(PYTHON) -m components.config.reference > docs/configuration-reference.md

schema: deps ## Write the outputs' JSON Schema from the contract's models (viberator_contract/outputs.schema.json)
	@$(PYTHON) -m viberator_contract.schema > viberator_contract/outputs.schema.json

.PHONY: urns
urns: deps ## Refresh the URN snapshots (tests/urns/) from the committed stacks' plans, after reviewing what tests/program/test_urns.py reported
	@$(PYTHON) -m tests.urn_snapshots

.PHONY: bench-plan bench-test
bench-test: deps ## How long `make test`'s pytest takes, per test folder, and its slowest tests (figures, no assertions)
	@$(PYTHON) -m bench.tests
bench-plan: deps ## Median wall time of the plan program and of `make plan FORMAT=json` (dev, 100 clankers, a diff); BASE=<git ref> also times that commit's program in the same run
	@$(PYTHON) -m bench.plan $(call option,--base,BASE)

.PHONY: preview up
preview: deps ## Real `pulumi preview` with the policy pack (needs the Pulumi CLI and AWS credentials)
	pulumi preview --stack $(call quote,STACK) --diff --policy-pack policy
up: deps ## Real `pulumi up` with the policy pack
	pulumi up --stack $(call quote,STACK) --policy-pack policy

include $(wildcard make/*.mk)

# Last: `unexport` defines a variable (empty) that is not yet, which would defeat the `?=` defaults above.
unexport $(USER_VARIABLES)
