#!/usr/bin/env bash
# The systemd guest's root: `debootstrap --variant=minbase bookworm` plus PACKAGE... (without
# recommends), cached under $ROLLCALL_GUEST_CACHE (default /var/cache/rollcall/systemd-guest), keyed
# by the package list. Prints the root's path on its last line. Debian's kernel package makes the
# initramfs (initramfs-tools) that boots it from /dev/vda.
#
#   tools/systemd-guest/build-base.sh PACKAGE...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBIAN_ROOT_TOOL=systemd-guest
# shellcheck source=tools/lib/debian-root.sh
. "$here/../lib/debian-root.sh"
cache=${ROLLCALL_GUEST_CACHE:-/var/cache/rollcall/systemd-guest}
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
key=$(printf '%s\n' bookworm "$@" | sort | sha256sum | cut -c1-16)
base=$cache/base-$key
if [ ! -f "$base/ready" ]; then
    start=$(date +%s)
    debian_root_log "building the guest's root (debootstrap bookworm and $# packages) in $base"
    mkdir -p "$cache"
    rm -rf "$base" "$cache"/base-*.part
    part=$base.part; mkdir -p "$part"
    export DEBIAN_ROOT_ENV
    DEBIAN_ROOT_ENV=$(mktemp)
    trap 'rm -f "$DEBIAN_ROOT_ENV"' EXIT
    write_root_environment
    make_debian_root bookworm "$part/root" "$@"
    mv "$part" "$base"; touch "$base/ready"
    find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$key" -exec rm -rf {} +
    debian_root_log "guest root ready in $(( $(date +%s) - start )) s"
fi
echo "$base/root"
