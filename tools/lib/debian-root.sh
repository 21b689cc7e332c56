# shellcheck shell=bash
# Helpers for Debian roots made with debootstrap (sourced by tools/fresh-root.sh and
# tools/systemd-guest/build-image.sh). They carry this machine's way of reaching Debian's archive,
# PyPI and the Swift package mirror into a root, and run commands there.

debian_root_log() { printf '%s: %s\n' "${DEBIAN_ROOT_TOOL:-debian-root}" "$*" >&2; }

# The archive this machine's apt uses (its first source), for debootstrap.
debian_archive() {
    local archive
    archive=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2; exit}')
    [ -n "$archive" ] || archive=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$archive" ] || { debian_root_log "cannot tell which Debian archive apt uses here"; return 1; }
    echo "$archive"
}

# Installs debootstrap on this machine when it is missing.
ensure_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    debian_root_log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debootstrap >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
}

# Copies the machine's network set-up into a root: apt's sources and the settings that reach them,
# pip's settings, git's URL mapping (the Swift package mirror), and the CA bundle.
carry_network() { # ROOT
    local root=$1 f
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

# Writes the environment commands get inside a root to the file $DEBIAN_ROOT_ENV: a clean one, plus
# what names the network set-up. Arguments: extra PATH entries to put first.
write_root_environment() { # [PATH-ENTRY...]
    local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin v entry
    for entry in "$@"; do path=$entry:$path; done
    {
        printf '%s\n' HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 "TERM=${TERM:-dumb}" "CI=${CI:-}" "PATH=$path"
        for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_DEFAULT_TIMEOUT PIP_INDEX_URL \
            PIP_EXTRA_INDEX_URL VP_ACCEL VP_TIMEOUT; do
            if [ -n "${!v:-}" ]; then echo "$v=${!v}"; fi
        done
        if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
            for v in SSL_CERT_FILE PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE GIT_SSL_CAINFO; do
                echo "$v=/etc/ssl/host/ca-certificates.crt"
            done
        fi
    } > "$DEBIAN_ROOT_ENV"
}

# Mounts /proc, /sys and /dev in a root, and each READ-ONLY-PATH at its own path there, read only.
# Run it in a mount namespace of its own (unshare --mount), so that the mounts go with it.
mount_system() { # ROOT [READ-ONLY-PATH...]
    local root=$1 path; shift
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    for path in "$@"; do
        [ -n "$path" ] || continue
        mkdir -p "$root$path"
        mount --bind "$path" "$root$path" && mount -o remount,bind,ro "$root$path"
    done
}

# Runs a command in a root with the environment of write_root_environment.
in_root() { # ROOT COMMAND...
    local root=$1 environment; shift
    mapfile -t environment < "$DEBIAN_ROOT_ENV"
    chroot "$root" /usr/bin/env -i "${environment[@]}" "$@"
}

# debootstrap (minbase) into ROOT, then apt-get install PACKAGES there without recommends. Logs go to
# ROOT.log; on failure their end is printed.
make_debian_root() { # SUITE ROOT PACKAGE...
    local suite=$1 root=$2 archive; shift 2
    archive=$(debian_archive) || return 1
    ensure_debootstrap || return 1
    debootstrap --variant=minbase "$suite" "$root" "$archive" > "$root.log" 2>&1 ||
        { tail -n 20 "$root.log" >&2; debian_root_log "debootstrap failed"; return 1; }
    carry_network "$root"
    export -f mount_system in_root
    export DEBIAN_ROOT_ENV
    unshare --mount --pid --fork --kill-child bash -euo pipefail -c '
        root=$1; shift
        mount_system "$root"
        in_root "$root" apt-get update -q
        in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
        in_root "$root" apt-get clean
    ' _ "$root" "$@" >> "$root.log" 2>&1 ||
        { tail -n 20 "$root.log" >&2; debian_root_log "installing $* failed"; return 1; }
}
