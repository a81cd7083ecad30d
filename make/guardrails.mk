# Guardrails beyond the policy pack: checkov over the offline plan (as a Terraform plan), the worker Dockerfile
# and the CI workflows. Checkov lives in an environment of its own (guardrails/checkov: its pins clash with
# pulumi's); accepted findings and their reasons are in guardrails/checkov-skips.yaml.
#
#   make scan STACK=dev      one stack's plan, plus the Dockerfile and workflows (STACK=access/dev: the access project's)
#   make scan-all            every committed stack; also fails on a skip that no longer matches a failure
#   make test-checkov        the checkov tests (marker checkov); `make test` leaves them out, so it never installs checkov

SCAN_STACKS := $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml)) \
	$(patsubst access/Pulumi.%.yaml,access/%,$(wildcard access/Pulumi.*.yaml))

guardrails/checkov/.venv/.synced: guardrails/checkov/pyproject.toml guardrails/checkov/uv.lock | $(UV)
	$(UV_SYNC) --project guardrails/checkov
	@touch $@

.PHONY: scan-deps scan scan-all test-checkov
scan-deps: guardrails/checkov/.venv/.synced ## Install the pinned checkov (its own environment)

scan: deps scan-deps ## checkov over STACK's plan (access/dev for the access project's) (as a Terraform plan), the Dockerfile and the workflows
	@$(RUN) python -m guardrails.scan --stack $(call quote,STACK)

scan-all: deps scan-deps ## checkov over every committed stack (the access project's too), the Dockerfile and the workflows; stale skips fail
	@$(RUN) python -m guardrails.scan $(foreach stack,$(SCAN_STACKS),--stack $(stack)) --strict-skips

test-checkov: deps scan-deps ## The checkov tests: checkov reads the plan's translation (a crafted misconfiguration fails) and passes every committed stack
	$(RUN) pytest -q -m checkov
