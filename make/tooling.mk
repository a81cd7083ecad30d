# Local image tooling (`python -m workers`): build, push and ensure worker images on the local Docker engine.
#
#   make images [PUSH=1 REGISTRY=host[:port][/prefix]|ecr] [PLATFORM=linux/amd64,linux/arm64] [IMAGE_ENV=dev]
#   make image HARNESS=claude [same options; HARNESS may name several, space or comma separated]
#   make ensure HARNESS=claude [VERSION=<revision>|dev] [REGISTRY=…] [OFFLINE=1] [REBUILD=1]
#   make ensure HARNESS=claude FROM_STACK=dev|OUTPUTS=file [CLANKER=name]   # the digest the stack's clanker runs
#   make run-job CLANKER=local-kimi JOB=examples/bootstrap/job.json [STACK=dev|OUTPUTS=file] [LOCAL=1] [FAKE_AGENT=0]
#
# BUILD_ARGS="NAME=VALUE …" passes extra build args; IMAGE_BASES=hub builds from the official base images.
# REGISTRY defaults to $VIBERATOR_REGISTRY, else ecr (the AWS account's) when AWS credentials are found; the
# docker binary to $VIBERATOR_DOCKER (see README).

IMAGE_ENV ?= dev
comma := ,
WORKERS_CLI = $(RUN) python -m workers
_yes = $(filter 1 yes true,$(1))

# With IMAGE_BASES=offline (make/images.mk, the default here: no Docker Hub) builds start FROM the local
# stand-in bases, which the engine script makes on first use (for every PLATFORM) and names on stdout.
_offline_bases = $(if $(filter offline,$(IMAGE_BASES)),$$(.ci/docker-engine.sh offline-bases $(PLATFORM)))
_build_args = $(strip $(BUILD_ARGS) $(_offline_bases))
_tooling_flags = --env "$(IMAGE_ENV)" $(if $(REGISTRY),--registry "$(REGISTRY)") \
	$(if $(ALIAS_TAG),--alias-tag "$(ALIAS_TAG)") $(if $(_build_args),--build-arg "$(_build_args)")
_build_flags = $(_tooling_flags) $(if $(REVISION),--revision "$(REVISION)") \
	$(if $(PLATFORM),--platform "$(PLATFORM)") $(if $(call _yes,$(PUSH)),--push)
_ensure_flags = $(_tooling_flags) $(if $(VERSION),--version "$(VERSION)") \
	$(if $(call _yes,$(OFFLINE)),--offline) $(if $(call _yes,$(REBUILD)),--rebuild) \
	$(if $(FROM_STACK),--from-stack "$(FROM_STACK)") $(if $(OUTPUTS),--outputs "$(OUTPUTS)") \
	$(if $(CLANKER),--clanker "$(CLANKER)")

.PHONY: images image ensure
images: deps ## Build every harness image (PUSH=1 REGISTRY=…, PLATFORM=…, IMAGE_ENV=…)
	@$(WORKERS_CLI) build all $(_build_flags)

image: deps ## Build one harness image: HARNESS=claude (options as for images)
	$(if $(HARNESS),,$(error HARNESS is required, e.g. make image HARNESS=claude))
	@$(WORKERS_CLI) build $(subst $(comma), ,$(HARNESS)) $(_build_flags)

ensure: deps ## Local alias of HARNESS's image, else pull it (VERSION, REGISTRY, OFFLINE=1, REBUILD=1)
	$(if $(HARNESS),,$(error HARNESS is required, e.g. make ensure HARNESS=claude))
	@$(WORKERS_CLI) ensure "$(HARNESS)" $(_ensure_flags)

# The fake agent by default, as docker-compose.yml: no API key or network. FAKE_AGENT=0 runs the real CLI.
FAKE_AGENT ?= 1
_run_job_flags = $(if $(OUTPUTS),--outputs "$(OUTPUTS)",--stack "$(STACK)") $(if $(call _yes,$(LOCAL)),--local) \
	$(if $(call _yes,$(FAKE_AGENT)),--fake-agent)

.PHONY: run-job
run-job: deps ## Run JOB on CLANKER from the stack outputs (STACK, OUTPUTS=file, LOCAL=1: Lambda emulator)
	$(if $(CLANKER),,$(error CLANKER is required, e.g. make run-job CLANKER=local-kimi JOB=examples/bootstrap/job.json))
	$(if $(JOB),,$(error JOB is required, e.g. JOB=examples/bootstrap/job.json))
	@$(WORKERS_CLI) run-job "$(CLANKER)" --job "$(JOB)" $(_run_job_flags)
