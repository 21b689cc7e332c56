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
# Debian's archive, PyPI and the package mirror are reached as on this machine.
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

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
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

log() { printf 'fresh-root: %s\n' "$*" >&2; }
now() { date +%s; }
t_start=$(now)

if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
fi

swift_bin=$(command -v swift) || { log "the Swift toolchain is not on PATH"; exit 1; }
toolchain=$(cd "$(dirname "$(readlink -f "$swift_bin")")/../.." && pwd)   # .../usr/bin/swift -> ...
mirror=
for url in $(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | awk '{print $1}'); do
    path=${url#url.}; path=${path%.insteadof}
    case "$path" in /*) mirror=${path%/}; break ;; esac
done

# The archive this machine's apt uses (its first deb line), for debootstrap.
archive=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2; exit}')
[ -n "$archive" ] || archive=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$archive" ] || { log "cannot tell which Debian archive apt uses here"; exit 1; }

key() { sha256sum | cut -c1-16; }
base_key=$( (echo "$suite"; printf '%s\n' "${TOOLCHAIN_PACKAGES[@]}") | key)
deps_key=$( (echo "$base_key"; cat "$repo/tools/install-deps.sh") | key)
base=$cache/base-$base_key
deps=$cache/deps-$deps_key
mkdir -p "$cache"

# Copies the machine's network set-up into a root (apt, pip, git, CA bundle).
carry_network() { # ROOT
    local root=$1
    cp /etc/resolv.conf /etc/hosts "$root/etc/" 2>/dev/null || true
    rm -f "$root/etc/apt/sources.list"
    cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true
    if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$root/etc/apt/"; fi
    find "$root/etc/apt/sources.list.d" -name '*.disabled*' -delete
    for f in /etc/apt/apt.conf.d/*; do
        if grep -qiE 'proxy|Check-Valid-Until|Check-Date' "$f" 2>/dev/null; then cp "$f" "$root/etc/apt/apt.conf.d/"; fi
    done
    if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$root/etc/pip.conf"; fi
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        mkdir -p "$root/etc/ssl/host"
        cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/host/ca-certificates.crt"
    fi
    : > "$root/etc/gitconfig"
    git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | while read -r name value; do
        git config --file "$root/etc/gitconfig" --add "$name" "$value"
    done
}

# The environment inside: a clean one, plus what names the network set-up.
inside_env=(HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=${TERM:-dumb} CI=${CI:-}
    PATH=$toolchain/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_DEFAULT_TIMEOUT PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL VP_ACCEL VP_TIMEOUT; do
    if [ -n "${!v:-}" ]; then inside_env+=("$v=${!v}"); fi
done
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    for v in SSL_CERT_FILE PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE GIT_SSL_CAINFO; do
        inside_env+=("$v=/etc/ssl/host/ca-certificates.crt")
    done
fi

# Mounts what a root needs to run builds and tests; runs in the namespace.
# shellcheck disable=SC2317
mount_system() { # ROOT
    local root=$1
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mkdir -p "$root$toolchain"
    mount --bind "$toolchain" "$root$toolchain" && mount -o remount,bind,ro "$root$toolchain"
    if [ -n "$mirror" ]; then
        mkdir -p "$root$mirror"
        mount --bind "$mirror" "$root$mirror" && mount -o remount,bind,ro "$root$mirror"
    fi
}

in_root() { # ROOT COMMAND...
    local root=$1 environment; shift
    mapfile -t environment < "$ROLLCALL_ROOT_ENV"
    chroot "$root" /usr/bin/env -i "${environment[@]}" "$@"
}

export ROLLCALL_ROOT_ENV toolchain mirror
ROLLCALL_ROOT_ENV=$(mktemp)
trap 'rm -f "$ROLLCALL_ROOT_ENV"' EXIT
printf '%s\n' "${inside_env[@]}" > "$ROLLCALL_ROOT_ENV"

# --- base layer -------------------------------------------------------------------------------
if [ ! -f "$base/ready" ]; then
    t=$(now)
    log "base layer: debootstrap $suite (minbase) and the toolchain's dependencies"
    rm -rf "$base" "$cache"/base-*.part
    part=$base.part; mkdir -p "$part"
    debootstrap --variant=minbase "$suite" "$part/root" "$archive" > "$part/debootstrap.log" 2>&1 ||
        { tail -n 20 "$part/debootstrap.log" >&2; log "debootstrap failed"; exit 1; }
    carry_network "$part/root"
    export -f mount_system in_root
    unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
        root=$1; shift
        mount_system "$root"
        in_root "$root" apt-get update -q
        in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
        in_root "$root" apt-get clean
    ' _ "$part/root" "${TOOLCHAIN_PACKAGES[@]}" > "$part/toolchain.log" 2>&1 ||
        { tail -n 20 "$part/toolchain.log" >&2; log "installing the toolchain's dependencies failed"; exit 1; }
    mv "$part" "$base"; touch "$base/ready"
    log "base layer ready in $(( $(now) - t )) s"
    find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$base_key" -exec rm -rf {} +
else
    log "base layer cached ($base)"
fi

# --- deps layer -------------------------------------------------------------------------------
lower=$base/root
if [ "$deps_layer" = 1 ]; then
    if [ ! -f "$deps/ready" ]; then
        t=$(now)
        log "deps layer: tools/install-deps.sh in the base"
        rm -rf "$deps" "$cache"/deps-*.part
        part=$deps.part; mkdir -p "$part/upper" "$part/work" "$part/merged"
        export -f mount_system in_root carry_network
        unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
            part=$1 lower=$2 repo=$3
            mount -t overlay overlay -o "lowerdir=$lower,upperdir=$part/upper,workdir=$part/work" "$part/merged"
            mount_system "$part/merged"
            mkdir -p "$part/merged/build/deps"
            cp "$repo/tools/install-deps.sh" "$part/merged/build/deps/"
            in_root "$part/merged" bash /build/deps/install-deps.sh
            rm -rf "$part/merged/build"
            in_root "$part/merged" apt-get clean
        ' _ "$part" "$lower" "$repo" 2>&1 | tee "$part/install-deps.log" | sed 's/^/  | /' >&2 ||
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
trap 'rm -rf "$run" "$ROLLCALL_ROOT_ENV"' EXIT
mkdir -p "$run/upper" "$run/work" "$run/merged"
shared=$(cd "$repo/../shared" 2>/dev/null && pwd || true)
log "run layer: $* (in /build/rollcall; $(( $(now) - t_start )) s so far)"
t=$(now)
export -f mount_system in_root
set +e
unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
    run=$1 lower=$2 repo=$3 shared=$4; shift 4
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$run/merged"
    mount_system "$run/merged"
    mkdir -p "$run/merged/build/rollcall" "$run/merged/build/shared"
    git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && tar --null -T - -cf -) |
        tar -C "$run/merged/build/rollcall" -xf -
    if [ -n "$shared" ]; then mount --bind "$shared" "$run/merged/build/shared" && mount -o remount,bind,ro "$run/merged/build/shared"; fi
    in_root "$run/merged" bash -c "cd /build/rollcall && exec \"\$@\"" _ "$@"
' _ "$run" "$lower" "$repo" "$shared" "$@"
status=$?
set -e
log "run layer: exit $status after $(( $(now) - t )) s; $(( $(now) - t_start )) s in all"
exit $status
