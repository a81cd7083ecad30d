# Worker images: the real-build tier, the image bench and the Dockerfile lint (issue 4).
# Needs root (apt-get, dockerd). .ci/docker-engine.sh installs docker.io, docker-registry and debootstrap
# when absent and starts dockerd (host networking only) when none runs; the recipes stop what they started.

ENGINE := .ci/docker-engine.sh
# offline: base images made locally (debootstrap + Node from the npm registry), the CI fallback for machines
# without Docker Hub; hub: the Dockerfile's official bases (node:22-trixie-slim, debian:trixie-slim).
IMAGE_BASES ?= offline
export VIBERATOR_IMAGE_BASES := $(value IMAGE_BASES)
# Starts engine and registry, runs $(1), stops both on exit whatever happened.
with_engine = bash -c 'set -euo pipefail; trap "$(ENGINE) registry-stop; $(ENGINE) stop" EXIT; \
	$(ENGINE) start; $(ENGINE) registry-start; $(1)'

.PHONY: test-images
test-images: deps ## Real-build tier: every harness image built and run (amd64, and kimi and codex for arm64 under QEMU), pushed, scanned
	@$(call with_engine,$(RUN) pytest -q -m images tests/images)

.PHONY: test-images-arm64
test-images-arm64: deps ## Only the arm64 part of test-images: kimi and codex under QEMU, CLIs and jobs emulated; a 2-platform index
	@$(call with_engine,$(RUN) pytest -q -m "images and arm64" tests/images)

.PHONY: bench-images
bench-images: deps ## Per-image build times and sizes (cold, no-op, runtime-only); JSON in build/
	@$(call with_engine,PYTHONPATH=. $(RUN) python tests/images/bench.py --output build/bench-images.json)

.PHONY: lint-images
lint-images: deps ## hadolint on workers/image/Dockerfile
	$(RUN) hadolint --config workers/image/.hadolint.yaml workers/image/Dockerfile

# Agent CLI locks (workers/image/locks/<name>/, docs/images-tooling.md "Supply chain"). `make locks` re-resolves every lock from
# its pins; `make lock AGENT=gemini VERSION=0.62.0` moves one npm CLI to a new version first (for mistral, edit
# locks/mistral/requirements.in). npm writes package-lock.json with every package's integrity hash (for every
# platform, so arm64 builds use the same lock); uv compiles the hashed requirements for the images' Python 3.13.
LOCKS_DIR := workers/image/locks
NPM_LOCKS := $(patsubst $(LOCKS_DIR)/%/package.json,%,$(wildcard $(LOCKS_DIR)/*/package.json))
PYPI_LOCKS := $(patsubst $(LOCKS_DIR)/%/requirements.in,%,$(wildcard $(LOCKS_DIR)/*/requirements.in))
_npm_lock = (cd $(LOCKS_DIR)/$(1) && npm install --package-lock-only --ignore-scripts --no-audit --no-fund) \
	|| { echo "could not resolve $(1)'s lock from the npm registry" >&2; exit 3; }
_pypi_lock = (cd $(LOCKS_DIR) && $(UV) pip compile --quiet --universal --python-version 3.13 --generate-hashes \
	--no-header $(if $(value UPGRADE),--upgrade) --output-file $(1)/requirements.txt $(1)/requirements.in) \
	|| { echo "could not resolve $(1)'s lock from PyPI" >&2; exit 3; }

# Every place a harness needs (docs/add-a-harness.md); the name reaches the tool as data, through the environment.
.PHONY: harness-check
harness-check: export CHECKED_HARNESS := $(value HARNESS)
harness-check: deps ## Every place a harness needs and which are missing: HARNESS=<name> (default: every catalog harness)
	@$(RUN) python -m workers.harness_check $${CHECKED_HARNESS:+"$$CHECKED_HARNESS"}

.PHONY: locks lock
locks: | $(UV) ## Re-resolve every agent CLI lock (npm + hashed PyPI); UPGRADE=1 also moves unpinned transitive deps
	@command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 3; }
	@$(foreach name,$(NPM_LOCKS),$(call _npm_lock,$(name)) &&) true
	@$(foreach name,$(PYPI_LOCKS),$(call _pypi_lock,$(name)) &&) true

lock: | $(UV) ## One npm CLI to a new version: AGENT=gemini VERSION=0.62.0 (rewrites its package.json pin and lock)
	$(if $(and $(filter 1,$(words $(value AGENT))),$(filter $(value AGENT),$(NPM_LOCKS))),,$(error AGENT must be one of: $(NPM_LOCKS)))
	$(if $(value VERSION),,$(error VERSION is required, e.g. make lock AGENT=$(AGENT) VERSION=1.2.3))
	@python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); (n,)=d["dependencies"]; d["dependencies"][n]=sys.argv[2]; open(p,"w").write(json.dumps(d,indent=2)+"\n")' \
		$(LOCKS_DIR)/$(AGENT)/package.json $(call quote,VERSION)
	@$(call _npm_lock,$(AGENT))
