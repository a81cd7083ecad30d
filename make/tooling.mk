# Local image tooling (`python -m workers`): build, push and ensure worker images on the local Docker engine.
#
#   make images [PUSH=1 REGISTRY=host[:port][/prefix]|ecr] [PLATFORM=linux/amd64,linux/arm64] [IMAGE_ENV=dev]
#   make image HARNESS=claude [same options; HARNESS may name several, space or comma separated]
#   make ensure HARNESS=claude [VERSION=<revision>-<hash>|dev] [REGISTRY=…] [OFFLINE=1] [REBUILD=1]
#   make ensure HARNESS=claude FROM_STACK=dev|OUTPUTS=file [CLANKER=name]   # the digest the stack's clanker runs
#   make run-job CLANKER=local-kimi JOB=examples/bootstrap/job.json [STACK=dev|OUTPUTS=file] [LOCAL=1] [FAKE_AGENT=0]
#
# Tags: <env>-<revision>-<hash>, <env>-latest and the local alias: the Pulumi program's rule, the hash over the
# build's own inputs (workers/naming.py; docs/images-tooling.md "Tags").
# BUILD_ARGS="NAME=VALUE …" passes extra build args; IMAGE_BASES=hub builds from the official base images (the
# only ones a push beyond a loopback registry takes).
# REGISTRY defaults to $VIBERATOR_REGISTRY, else ecr (the AWS account's) when AWS credentials are found; the
# docker binary to $VIBERATOR_DOCKER (see README).

IMAGE_ENV ?= dev
WORKERS_CLI = $(RUN) python -m workers
# PUSH=1 (yes, true) and the like, from the variable's raw value.
_yes = $(filter 1 yes true,$(value $(1)))
_flag = $(if $(call _yes,$(2)),$(1))

# IMAGE_BASES (make/images.mk) as the tool's --bases: with offline (the default here: no Docker Hub) the tool makes
# the local stand-in bases (`.ci/docker-engine.sh offline-bases`, for every PLATFORM) once it has checked its
# arguments and found the engine, and labels the images `offline`: those never push beyond a loopback registry.
_bases = --bases $(if $(filter hub,$(value IMAGE_BASES)),official,$(if $(filter offline,$(value IMAGE_BASES)),offline,$(error \
	IMAGE_BASES must be offline (local stand-in bases) or hub (the official ones: any push off this machine needs them))))
_tooling_flags = $(call option,--env,IMAGE_ENV) $(call option,--registry,REGISTRY) \
	$(call option,--alias-tag,ALIAS_TAG) $(call option,--build-arg,BUILD_ARGS) $(_bases)
_build_flags = $(_tooling_flags) $(call option,--revision,REVISION) $(call option,--platform,PLATFORM) \
	$(call _flag,--push,PUSH)
_ensure_flags = $(_tooling_flags) $(call option,--version,VERSION) $(call _flag,--offline,OFFLINE) \
	$(call _flag,--rebuild,REBUILD) $(call option,--from-stack,FROM_STACK) $(call option,--outputs,OUTPUTS) \
	$(call option,--clanker,CLANKER)

.PHONY: images image ensure
images: deps ## Build every harness image (PUSH=1 REGISTRY=…, PLATFORM=…, IMAGE_ENV=…, IMAGE_BASES=hub|offline)
	@$(WORKERS_CLI) build all $(_build_flags)

image: deps ## Build one harness image: HARNESS=claude (options as for images)
	$(if $(value HARNESS),,$(error HARNESS is required, e.g. make image HARNESS=claude))
	@$(WORKERS_CLI) build $(call quote,HARNESS) $(_build_flags)

ensure: deps ## Local alias of HARNESS's image, else pull it (VERSION, REGISTRY, OFFLINE=1, REBUILD=1)
	$(if $(value HARNESS),,$(error HARNESS is required, e.g. make ensure HARNESS=claude))
	@$(WORKERS_CLI) ensure $(call quote,HARNESS) $(_ensure_flags)

# The fake agent by default, as docker-compose.yml: no API key or network. FAKE_AGENT=0 runs the real CLI.
FAKE_AGENT ?= 1
_run_job_flags = $(if $(value OUTPUTS),--outputs $(call quote,OUTPUTS),--stack $(call quote,STACK)) \
	$(call _flag,--local,LOCAL) $(call _flag,--fake-agent,FAKE_AGENT)

.PHONY: run-job
run-job: deps ## Run JOB on CLANKER from the stack outputs (STACK, OUTPUTS=file, LOCAL=1: Lambda emulator)
	$(if $(value CLANKER),,$(error CLANKER is required, e.g. make run-job CLANKER=local-kimi JOB=examples/bootstrap/job.json))
	$(if $(value JOB),,$(error JOB is required, e.g. JOB=examples/bootstrap/job.json))
	@$(WORKERS_CLI) run-job $(call quote,CLANKER) --job $(call quote,JOB) $(_run_job_flags)
