# Worker images: the real-build tier, the image bench and the Dockerfile lint (issue 4).
# Needs root (apt-get, dockerd). .ci/docker-engine.sh installs docker.io, docker-registry and debootstrap
# when absent and starts dockerd (host networking only) when none runs; the recipes stop what they started.

ENGINE := .ci/docker-engine.sh
# offline: base images made locally (debootstrap + Node from the npm registry), the CI fallback for machines
# without Docker Hub; hub: the Dockerfile's official bases (node:22-trixie-slim, debian:trixie-slim).
IMAGE_BASES ?= offline
export VIBERATOR_IMAGE_BASES := $(IMAGE_BASES)
# Starts engine and registry, runs $(1), stops both on exit whatever happened.
with_engine = bash -c 'set -euo pipefail; trap "$(ENGINE) registry-stop; $(ENGINE) stop" EXIT; \
	$(ENGINE) start; $(ENGINE) registry-start; $(1)'

.PHONY: test-images
test-images: deps ## Real-build tier: build every harness image, run CLIs and a fake job, push, scan
	@$(call with_engine,$(RUN) pytest -q -m images tests/images)

.PHONY: bench-images
bench-images: deps ## Per-image build times and sizes (cold, no-op, runtime-only); JSON in build/
	@$(call with_engine,PYTHONPATH=. $(RUN) python tests/images/bench.py --output build/bench-images.json)

.PHONY: lint-images
lint-images: deps ## hadolint on workers/image/Dockerfile
	$(RUN) hadolint --config workers/image/.hadolint.yaml workers/image/Dockerfile
