# Sourced by .ci/docker-engine.sh (its `log`, `download_failed`, `host_arch`, STATE_DIR and DEBIAN_MIRROR): QEMU
# for the architecture the host is not, so the real-build tier builds and runs linux/arm64 images on x86_64.
# shellcheck shell=bash

# qemu-user-static registered with binfmt_misc, with the F flag Docker needs (the kernel opens the emulator at
# registration, so containers need no copy of it; workers/tooling/platforms.py checks the same). `start` sets it
# up and `stop` removes what it added, each recorded by a marker file, so a machine's own handlers stay.
BINFMT_DIR=/proc/sys/fs/binfmt_misc
BINFMT_MOUNTED=$STATE_DIR/binfmt.mounted
BINFMT_REGISTERED=$STATE_DIR/binfmt.registered

qemu_name() { case $1 in amd64) echo x86_64 ;; arm64) echo aarch64 ;; esac; }

# QEMU 9.0 or later: its linux-user passes prctl(PR_SET_CHILD_SUBREAPER) through to the kernel (qemu commit
# 07726f52, March 2024); older ones answer EINVAL, on which the images' entrypoint `tini -s` exits before the
# worker starts. Debian bookworm ships 7.2, so there it comes from bookworm-backports (10.0); trixie's is 10.0.
QEMU_MIN_MAJOR=9
BACKPORTS_SOURCES=/etc/apt/sources.list.d/viberator-backports.sources

# The installed emulator's major version (0: none); the -static name is the package's in every release.
qemu_major() {
    local emulator=/usr/bin/qemu-$1-static
    [[ -x $emulator ]] || { echo 0; return 0; }
    "$emulator" --version | sed -En '1s/^qemu-[^ ]* version ([0-9]+)\..*/\1/p'
}

candidate_major() {
    apt-cache policy "$1" | sed -En 's/^ *Candidate: ([0-9]+:)?([0-9]+)\..*/\2/p'
}

# apt's ordinary way to a newer package: the release's backports suite, which apt pins below the release
# (priority 100), so only what is asked for with `-t <suite>-backports` comes from it. The source file and the
# package stay, as the engine's packages do. Elsewhere (Ubuntu 24.04 ships 8.2) the release's own is installed.
install_qemu() {
    local qemu=$1 release=() codename
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || download_failed "apt-get update (Debian's package lists)"
    codename=$(. /etc/os-release && [[ ${ID:-} == debian ]] && echo "${VERSION_CODENAME:-}" || true)
    if (($(candidate_major qemu-user-static || echo 0) < QEMU_MIN_MAJOR)) && [[ -n $codename ]]; then
        log "Debian $codename's qemu-user-static is older than $QEMU_MIN_MAJOR.0: adding $codename-backports"
        printf '%s\n' 'Types: deb' "URIs: $DEBIAN_MIRROR" "Suites: $codename-backports" 'Components: main' \
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$BACKPORTS_SOURCES"
        apt-get update -qq || download_failed "apt-get update ($codename-backports)"
        release=(-t "$codename-backports")
    fi
    log "installing qemu-user-static ${release[*]} from Debian"
    apt-get install -y -qq --no-install-recommends "${release[@]}" qemu-user-static >/dev/null ||
        download_failed "apt-get install qemu-user-static from Debian"
    (($(qemu_major "$qemu") >= QEMU_MIN_MAJOR)) && return 0
    # Builds still work (their RUN steps need no subreaper); running a foreign image's entrypoint does not.
    log "warning: qemu-$qemu $(qemu_major "$qemu") is older than $QEMU_MIN_MAJOR.0: foreign images build, but" \
        "their entrypoint (tini -s) exits under it; install QEMU $QEMU_MIN_MAJOR.0 or later to run them"
}

start_emulation() {
    local arch qemu handler stale existed
    for arch in amd64 arm64; do
        [[ $arch == "$(host_arch)" ]] && continue
        qemu=$(qemu_name "$arch")
        handler=$BINFMT_DIR/qemu-$qemu
        if [[ ! -e $BINFMT_DIR/register ]]; then
            mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" || { log "cannot mount binfmt_misc: no $arch emulation"; return 0; }
            touch "$BINFMT_MOUNTED"
        fi
        # A handler that is not Debian's package's (docker/setup-qemu-action's on a GitHub runner) serves as it is.
        if [[ -e $handler ]] && ! grep -qx "interpreter /usr/libexec/qemu-binfmt/$qemu-binfmt-P" "$handler"; then
            log "binfmt_misc handler qemu-$qemu is not Debian's qemu-user-static: using it as it is"
            continue
        fi
        stale=
        if [[ ! -e /usr/lib/binfmt.d/qemu-$qemu.conf ]] || (($(qemu_major "$qemu") < QEMU_MIN_MAJOR)); then
            install_qemu "$qemu"
            # A handler registered before (F flag) still holds the old emulator open: register it anew.
            stale=1
        fi
        existed=
        if [[ -e $handler ]]; then
            [[ -n $stale ]] || continue
            # Registered anew, it stays whoever's it was: `stop` removes only what `start` first added.
            echo -1 >"$handler"
            existed=1
            log "removed binfmt_misc handler qemu-$qemu (it held the old emulator)"
        fi
        # Debian ships the handler in systemd-binfmt's format, which is the register file's own.
        # (`start_engine && start_emulation` runs this without errexit, hence the explicit checks.)
        cat "/usr/lib/binfmt.d/qemu-$qemu.conf" >"$BINFMT_DIR/register" ||
            { log "could not register qemu-$qemu with binfmt_misc: no linux/$arch builds here"; return 1; }
        [[ -n $existed ]] || echo "qemu-$qemu" >>"$BINFMT_REGISTERED"
        log "registered binfmt_misc handler qemu-$qemu (linux/$arch under QEMU $(qemu_major "$qemu"))"
    done
}

stop_emulation() {
    local name
    if [[ -s $BINFMT_REGISTERED ]]; then
        while read -r name; do
            [[ -e $BINFMT_DIR/$name ]] && echo -1 >"$BINFMT_DIR/$name" && log "removed binfmt_misc handler $name"
        done <"$BINFMT_REGISTERED"
    fi
    rm -f "$BINFMT_REGISTERED"
    [[ -e $BINFMT_MOUNTED ]] && umount "$BINFMT_DIR" && log "unmounted binfmt_misc"
    rm -f "$BINFMT_MOUNTED"
}

require_emulation() {
    local handler=$BINFMT_DIR/qemu-$(qemu_name "$1")
    [[ -e $handler ]] && return 0
    log "no $handler: run \`$0 start\` (registers QEMU with binfmt_misc) to build linux/$1 here"
    exit 2
}
