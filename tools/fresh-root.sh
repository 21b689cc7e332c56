#!/usr/bin/env bash
# Runs a command in a brand-new Debian 12 root, as on a machine that has only the Swift toolchain:
# the proof that `make test` and `make run` need nothing that was installed here by hand.
#
#   tools/fresh-root.sh [--cache DIR] [--no-deps-layer] -- COMMAND [ARG...]
#
# The root is made in three layers (overlayfs), each cached outside the clone:
#   base   `debootstrap --variant=minbase bookworm`, plus the Swift toolchain's own Debian
#          dependencies (swift.org's list for Debian 12, TOOLCHAIN_PACKAGES below) and make, which
#          a new user needs to type `make`. Keyed by that list.
#   deps   what `tools/install-deps.sh` installs when run in the base, and nothing else. Keyed by
#          the contents of install-deps.sh, so a change to its package list builds it anew.
#          --no-deps-layer skips the cache: install-deps.sh then runs inside the run layer itself.
#   run    thrown away after the command: a copy of this work tree at /build/rollcall (tracked and
#          untracked files that git does not ignore; no .build, no models, no venvs) and
#          ../shared read-only at /build/shared.
# The toolchain (the folder `swift` runs from) and the Swift package mirror are mounted read-only at
# the paths they have here, and the machine's network set-up (apt sources and settings, pip's
# settings, git's URL mapping, the CA bundle and the variables that name them) is carried in, so that
# Debian's archive, PyPI and the package mirror are reached as on this machine. What the commands
# inside cache between runs (the vivid guest's kernel, the systemd guest's layers) lives in
# /var/cache/rollcall there, which is CACHE/inner here.
#
# Everything runs in its own mount and PID namespace: when the command ends, every process it left
# is killed and every mount is gone. The exit status is the command's. Needs root, debootstrap and
# overlayfs. The cache (default /var/cache/rollcall/fresh-root, or $ROLLCALL_ROOT_CACHE) keeps only
# the newest base and deps layers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${ROLLCALL_ROOT_CACHE:-/var/cache/rollcall/fresh-root}
suite=bookworm
deps_layer=1

# What swift.org lists for the toolchain on Debian 12, and make. Not the project's packages: those
# come from install-deps.sh alone.
TOOLCHAIN_PACKAGES=(
    binutils-gold gcc git libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libicu-dev
    libncurses-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev pkg-config
    tzdata uuid-dev zlib1g-dev ca-certificates make
)

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --cache) cache=$2; shift 2 ;;
        --no-deps-layer) deps_layer=0; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "fresh-root: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "fresh-root: no command given (try --help)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: needs root (debootstrap, mounts, chroot)" >&2; exit 1; }

DEBIAN_ROOT_TOOL=fresh-root
# shellcheck source=tools/lib/debian-root.sh
. "$here/lib/debian-root.sh"
log() { debian_root_log "$@"; }
now() { date +%s; }
t_start=$(now)

swift_bin=$(command -v swift) || { log "the Swift toolchain is not on PATH"; exit 1; }
toolchain=$(cd "$(dirname "$(readlink -f "$swift_bin")")/../.." && pwd)   # .../usr/bin/swift -> ...
mirror=
for url in $(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | awk '{print $1}'); do
    path=${url#url.}; path=${path%.insteadof}
    case "$path" in /*) mirror=${path%/}; break ;; esac
done
inner_cache=$cache/inner
mkdir -p "$inner_cache"
export DEBIAN_ROOT_ENV
DEBIAN_ROOT_ENV=$(mktemp)
trap 'rm -f "$DEBIAN_ROOT_ENV"' EXIT
write_root_environment "$toolchain/usr/bin"
echo "VP_CACHE=/var/cache/rollcall/vivid-guest" >> "$DEBIAN_ROOT_ENV"

key() { sha256sum | cut -c1-16; }
base_key=$( (echo "$suite"; printf '%s\n' "${TOOLCHAIN_PACKAGES[@]}") | key)
deps_key=$( (echo "$base_key"; cat "$repo/tools/install-deps.sh") | key)
base=$cache/base-$base_key
deps=$cache/deps-$deps_key
mkdir -p "$cache"

# --- base layer -------------------------------------------------------------------------------
if [ ! -f "$base/ready" ]; then
    t=$(now)
    log "base layer: debootstrap $suite (minbase) and the toolchain's dependencies"
    rm -rf "$base" "$cache"/base-*.part
    part=$base.part; mkdir -p "$part"
    make_debian_root "$suite" "$part/root" "${TOOLCHAIN_PACKAGES[@]}" || exit 1
    mv "$part" "$base"; touch "$base/ready"
    log "base layer ready in $(( $(now) - t )) s"
    find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$base_key" -exec rm -rf {} +
else
    log "base layer cached ($base)"
fi

# --- deps layer -------------------------------------------------------------------------------
export -f mount_system in_root
lower=$base/root
if [ "$deps_layer" = 1 ]; then
    if [ ! -f "$deps/ready" ]; then
        t=$(now)
        log "deps layer: tools/install-deps.sh in the base"
        rm -rf "$deps" "$cache"/deps-*.part
        part=$deps.part; mkdir -p "$part/upper" "$part/work" "$part/merged"
        unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
            part=$1 lower=$2 repo=$3 toolchain=$4
            mount -t overlay overlay -o "lowerdir=$lower,upperdir=$part/upper,workdir=$part/work" "$part/merged"
            mount_system "$part/merged" "$toolchain"
            mkdir -p "$part/merged/build/deps"
            cp "$repo/tools/install-deps.sh" "$part/merged/build/deps/"
            in_root "$part/merged" bash /build/deps/install-deps.sh
            rm -rf "$part/merged/build"
            in_root "$part/merged" apt-get clean
        ' _ "$part" "$lower" "$repo" "$toolchain" 2>&1 | tee "$part/install-deps.log" | sed 's/^/  | /' >&2 ||
            { log "tools/install-deps.sh failed in the fresh root"; exit 1; }
        mv "$part" "$deps"; touch "$deps/ready"
        log "deps layer ready in $(( $(now) - t )) s"
        find "$cache" -maxdepth 1 -name 'deps-*' ! -name "deps-$deps_key" -exec rm -rf {} +
    else
        log "deps layer cached ($deps)"
    fi
    lower=$deps/upper:$base/root
fi

# --- run layer --------------------------------------------------------------------------------
run=$(mktemp -d "${TMPDIR:-/var/tmp}/rollcall-root.XXXXXX")
trap 'rm -rf "$run" "$DEBIAN_ROOT_ENV"' EXIT
mkdir -p "$run/upper" "$run/work" "$run/merged"
shared=$(cd "$repo/../shared" 2>/dev/null && pwd || true)
log "run layer: $* (in /build/rollcall; $(( $(now) - t_start )) s so far)"
t=$(now)
set +e
unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
    run=$1 lower=$2 repo=$3 shared=$4 toolchain=$5 mirror=$6 inner_cache=$7; shift 7
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$run/merged"
    mount_system "$run/merged" "$toolchain" "$mirror"
    mkdir -p "$run/merged/var/cache/rollcall"
    mount --bind "$inner_cache" "$run/merged/var/cache/rollcall"
    mkdir -p "$run/merged/build/rollcall" "$run/merged/build/shared"
    git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && tar --null -T - -cf -) |
        tar -C "$run/merged/build/rollcall" -xf -
    if [ -n "$shared" ]; then mount --bind "$shared" "$run/merged/build/shared" && mount -o remount,bind,ro "$run/merged/build/shared"; fi
    in_root "$run/merged" bash -c "cd /build/rollcall && exec \"\$@\"" _ "$@"
' _ "$run" "$lower" "$repo" "$shared" "$toolchain" "$mirror" "$inner_cache" "$@"
status=$?
set -e
log "run layer: exit $status after $(( $(now) - t )) s; $(( $(now) - t_start )) s in all"
exit $status
