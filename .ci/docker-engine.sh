#!/usr/bin/env bash
# Local Docker engine, registry and compose for the real-build tier (make test-images, make bench-images).
#
#   .ci/docker-engine.sh start | stop | registry-start | registry-stop | offline-bases [PLATFORMS] | skopeo-image | status
#
# Idempotent: `start` reuses a running engine and `stop` only stops an engine this script started (a marker
# file records ownership), so a developer's own dockerd is never touched. The engine runs with host
# networking only (no bridge, no iptables, no NAT): builds and containers use `--network host` or `none`,
# and nothing here routes to any address but the registries the host itself reaches. The registry is
# Debian's docker-registry on 127.0.0.1 with its storage under /tmp.
#
# `offline-bases` is a CI fallback for machines that cannot reach Docker Hub, never the production path: it
# makes stand-ins for the official base images (debootstrap trixie, plus Node and npm from the npm registry)
# under the local names viberator-base/debian:trixie-slim-<arch> and viberator-base/node:22-trixie-slim-<arch>, which
# the Dockerfile's base build args then name. Made once and reused while the engine keeps its images. `start` also
# registers QEMU (9.0 or later, from the release's backports where it ships an older one) for the other
# architecture (arm64 on x86_64) with binfmt_misc, and `stop` removes it again.
set -euo pipefail

STATE_DIR=${VIBERATOR_ENGINE_STATE:-/tmp/viberator-engine}
DOCKERD_LOG=$STATE_DIR/dockerd.log
DOCKERD_PID=$STATE_DIR/dockerd.pid
DOCKERD_OWNED=$STATE_DIR/dockerd.owned
REGISTRY_ADDR=${VIBERATOR_REGISTRY_ADDR:-127.0.0.1:5000}
REGISTRY_LOG=$STATE_DIR/registry.log
REGISTRY_PID=$STATE_DIR/registry.pid
REGISTRY_CONFIG=$STATE_DIR/registry.yml
# The 20.10 client from Debian's docker.io talks BuildKit v0.8; a newer client elsewhere on PATH lacks buildx.
DOCKER=/usr/bin/docker

log() { echo "docker-engine: $*" >&2; }

# Every download this script makes (Debian packages, the debootstrap rootfs, Node and npm) names what it
# fetched from where when it fails: a machine without those registries cannot run the real-build tier.
download_failed() {
    log "download failed: $1"
    log "the real-build tier needs Debian's package archive and the npm registry; see ${2:-the output above}"
    exit 3
}

install_packages() {
    local missing=() engine=()
    # A running engine (a GitHub runner's own) serves as it is: installing docker.io beside it would conflict.
    engine_up || [[ -x /usr/sbin/dockerd && -x $DOCKER ]] || engine=(docker.io containerd runc)
    [[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
    # htpasswd: the authenticated registry that stands in for ECR in the tooling's login tests.
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    [[ -x /usr/bin/docker-compose ]] || missing+=(docker-compose)
    # The Node stand-in base is packed from the npm registry; curl probes the registry.
    command -v npm >/dev/null || missing+=(npm)
    command -v curl >/dev/null || missing+=(curl)
    missing+=("${engine[@]}")
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || download_failed "apt-get update (Debian's package lists)"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        download_failed "apt-get install ${missing[*]} from Debian"
}

engine_up() { $DOCKER info >/dev/null 2>&1; }

start_engine() {
    install_packages
    mkdir -p "$STATE_DIR"
    if engine_up; then
        log "engine already running"
        return 0
    fi
    log "starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the daemon outlives the calling shell; `stop` ends it by the recorded pid.
    setsid /usr/sbin/dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
        --pidfile "$DOCKERD_PID" >"$DOCKERD_LOG" 2>&1 </dev/null &
    touch "$DOCKERD_OWNED"
    for _ in $(seq 1 60); do
        engine_up && { log "engine ready ($($DOCKER info --format '{{.Driver}}') storage)"; return 0; }
        sleep 0.5
    done
    log "dockerd did not come up; last log lines:"
    tail -n 20 "$DOCKERD_LOG" >&2
    return 1
}

stop_pid_file() {
    local pid_file=$1 name=$2
    [[ -s $pid_file ]] || return 0
    local pid
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$pid_file"
}

stop_engine() {
    if [[ ! -e $DOCKERD_OWNED ]]; then
        log "engine not started by this script; leaving it alone"
        return 0
    fi
    stop_pid_file "$DOCKERD_PID" dockerd
    rm -f "$DOCKERD_OWNED"
}

start_registry() {
    install_packages
    if curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; then
        log "registry already answering on $REGISTRY_ADDR"
        return 0
    fi
    # A registry this script starts starts empty: what an earlier run pushed or signed (a machine's /tmp outlives
    # runs) must not decide this run's results.
    rm -rf "$STATE_DIR/registry-data"
    mkdir -p "$STATE_DIR/registry-data"
    printf '%s\n' 'version: 0.1' 'log: {level: warn}' \
        "storage: {filesystem: {rootdirectory: $STATE_DIR/registry-data}, delete: {enabled: true}}" \
        "http: {addr: $REGISTRY_ADDR}" >"$REGISTRY_CONFIG"
    setsid /usr/bin/docker-registry serve "$REGISTRY_CONFIG" >"$REGISTRY_LOG" 2>&1 </dev/null &
    echo $! >"$REGISTRY_PID"
    for _ in $(seq 1 40); do
        curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1 && { log "registry on $REGISTRY_ADDR"; return 0; }
        sleep 0.25
    done
    log "registry did not come up; log:"
    cat "$REGISTRY_LOG" >&2
    return 1
}

# The stand-ins follow the official images' versions: Node 22 LTS with the npm it bundles. Each is one image per
# architecture, tagged `<name>-<arch>` (the engine's image store holds one platform per tag; the official images
# are indexes): the Dockerfile's ARCH_TAGGED_BASES build arg makes its FROM lines add `-$TARGETARCH` (or
# `-$BUILDARCH` for the stages that run on the build platform).
OFFLINE_NODE_VERSION=${OFFLINE_NODE_VERSION:-22.23.3}
OFFLINE_NPM_VERSION=${OFFLINE_NPM_VERSION:-10.9.4}
OFFLINE_DEBIAN=viberator-base/debian:trixie-slim
OFFLINE_NODE=viberator-base/node:22-trixie-slim
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

has_image() { $DOCKER image inspect "$1" >/dev/null 2>&1; }

# Scratch directories (rootfs, build contexts: hundreds of MB under /var/tmp) go on every exit, failed or not.
SCRATCH=()
new_scratch() { REPLY=$(mktemp -d "/var/tmp/$1.XXXXXX"); SCRATCH+=("$REPLY"); }  # sets REPLY: no subshell
remove_scratch() { ((${#SCRATCH[@]} == 0)) || rm -rf "${SCRATCH[@]}"; }
trap remove_scratch EXIT

# Docker's architecture names (the tags' suffixes, `docker build --platform`) and Node's (npm's node-linux-*).
host_arch() { case $(uname -m) in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac; }
node_arch() { case $1 in amd64) echo x64 ;; *) echo "$1" ;; esac; }

# `linux/amd64,linux/arm64` (make's PLATFORM) → `amd64 arm64`; none → the host's architecture.
arches_of() {
    local platforms=${1:-linux/$(host_arch)} platform
    for platform in ${platforms//,/ }; do
        [[ $platform == linux/amd64 || $platform == linux/arm64 ]] ||
            { log "offline bases exist for linux/amd64 and linux/arm64, not $platform"; exit 2; }
        echo "${platform#linux/}"
    done
}

offline_debian() {
    local arch=$1 tag=$OFFLINE_DEBIAN-$1
    has_image "$tag" && return 0
    local rootfs ctx
    new_scratch viberator-rootfs && rootfs=$REPLY
    new_scratch viberator-rootfs-ctx && ctx=$REPLY
    # A foreign architecture's second stage (maintainer scripts) runs under QEMU through binfmt_misc (`start`
    # registers it; its F flag lets the chroot find the emulator), so plain debootstrap does both stages.
    [[ $arch == "$(host_arch)" ]] || require_emulation "$arch"
    log "debootstrap trixie ($arch) into $rootfs (log: $STATE_DIR/debootstrap-$arch.log)"
    debootstrap --arch="$arch" --variant=minbase trixie "$rootfs" "$DEBIAN_MIRROR" \
        >"$STATE_DIR/debootstrap-$arch.log" 2>&1 ||
        { rm -rf "$rootfs" "$ctx"; download_failed "debootstrap trixie ($arch) from $DEBIAN_MIRROR" \
            "$STATE_DIR/debootstrap-$arch.log"; }
    # What the official -slim image does: keep docs, man pages and translations out, now and on later installs.
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
        'path-exclude /usr/share/lintian/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
    # ... and, like the official image's docker-clean hook, keep no apt caches after an install.
    printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"$rootfs/etc/apt/apt.conf.d/docker-clean"
    find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*
    tar -C "$rootfs" --numeric-owner -c . >"$ctx/rootfs.tar"
    # Built FROM scratch rather than `docker import`d: the 20.10 engine's import ignores --platform without
    # experimental mode and records the host's architecture, while a build records its target platform. ADD
    # unpacks the tar; no RUN, so nothing is emulated.
    # The label marks every image built on a stand-in (workers/labels.py BASES_LABEL; the tooling sets it too).
    printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' 'LABEL io.viberator.bases=offline' 'CMD ["bash"]' \
        >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=1 $DOCKER build --quiet --network none --platform "linux/$arch" -t "$tag" "$ctx" >/dev/null
    rm -rf "$rootfs" "$ctx"
}

offline_node() {
    local arch=$1 tag=$OFFLINE_NODE-$1 node
    has_image "$tag" && return 0
    offline_debian "$arch"
    node=node-linux-$(node_arch "$arch")
    local ctx
    new_scratch viberator-node && ctx=$REPLY
    log "Node $OFFLINE_NODE_VERSION ($arch) and npm $OFFLINE_NPM_VERSION from the npm registry"
    (cd "$ctx" && npm pack --silent "$node@$OFFLINE_NODE_VERSION" "npm@$OFFLINE_NPM_VERSION" >/dev/null) ||
        { rm -rf "$ctx"; download_failed "npm pack $node@$OFFLINE_NODE_VERSION npm@$OFFLINE_NPM_VERSION"; }
    mkdir -p "$ctx/node" "$ctx/npm"
    tar -xzf "$ctx/$node-$OFFLINE_NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1 package/bin/node
    tar -xzf "$ctx/npm-$OFFLINE_NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
    # The RUN (a foreign node's --version) runs under QEMU for another architecture than the host's.
    printf '%s\n' "FROM $OFFLINE_DEBIAN-$arch" "ENV NODE_VERSION=$OFFLINE_NODE_VERSION" \
        'COPY node/bin/node /usr/local/bin/node' 'COPY npm /usr/local/lib/node_modules/npm' \
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version' \
        'CMD ["node"]' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=1 $DOCKER build --quiet --network none --platform "linux/$arch" -t "$tag" "$ctx" >/dev/null
    rm -rf "$ctx"
}

# QEMU user emulation for the other architecture than the host's (arm64 on an x86_64 runner): Debian's
# QEMU and binfmt_misc for the other architecture: `start_emulation`, `stop_emulation`, `require_emulation`.
# shellcheck source=.ci/emulation.sh
. "$(dirname "${BASH_SOURCE[0]}")/emulation.sh"

# skopeo signs and verifies digests (sigstore signatures as registry attachments; docs/images-tooling.md "Supply chain"). The
# host's skopeo may not do it: bookworm's 1.9.3 is built with sigstore disabled ("Debian-local change"), and
# trixie's 1.18 needs a newer glibc. So skopeo runs from an image of its own: trixie's package on the trixie base.
SKOPEO_TAG=viberator-tools/skopeo:trixie

skopeo_image() {
    has_image "$SKOPEO_TAG" && return 0
    offline_debian "$(host_arch)"
    local ctx
    new_scratch viberator-skopeo && ctx=$REPLY
    printf '%s\n' "FROM $OFFLINE_DEBIAN-$(host_arch)" \
        'RUN apt-get update && apt-get install -y --no-install-recommends skopeo ca-certificates && rm -rf /var/lib/apt/lists/*' \
        'ENTRYPOINT ["skopeo"]' >"$ctx/Dockerfile"
    log "skopeo from Debian trixie into $SKOPEO_TAG"
    DOCKER_BUILDKIT=1 $DOCKER build --quiet --network host -t "$SKOPEO_TAG" "$ctx" >/dev/null ||
        { rm -rf "$ctx"; download_failed "apt-get install skopeo (Debian trixie) for $SKOPEO_TAG"; }
    rm -rf "$ctx"
}

case ${1:-} in
start) start_engine && start_emulation ;;
stop) stop_emulation && stop_engine ;;
registry-start) start_registry ;;
registry-stop) stop_pid_file "$REGISTRY_PID" docker-registry ;;
offline-bases)
    # [PLATFORMS]: `linux/amd64,linux/arm64`; the build platform's (the host's) is always made, for the stages
    # that run there. The platforms and the engine first: nothing is installed or bootstrapped for a build that
    # cannot run.
    arches=$(arches_of "${2:-}")
    engine_up || { log "no Docker engine answers to $DOCKER: start it first (.ci/docker-engine.sh start)"; exit 3; }
    install_packages
    mkdir -p "$STATE_DIR"
    for arch in $(printf '%s\n' "$(host_arch)" $arches | sort -u); do offline_node "$arch"; done
    echo "NODE_BASE=$OFFLINE_NODE NODE_BUILD_BASE=$OFFLINE_NODE SLIM_BASE=$OFFLINE_DEBIAN ARCH_TAGGED_BASES=1"
    ;;
skopeo-image)
    install_packages
    mkdir -p "$STATE_DIR"
    skopeo_image
    echo "$SKOPEO_TAG"
    ;;
status) engine_up && echo "engine: up" || echo "engine: down" ;;
*)
    echo "usage: $0 start|stop|registry-start|registry-stop|offline-bases|skopeo-image|status" >&2
    exit 2
    ;;
esac
