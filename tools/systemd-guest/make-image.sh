#!/usr/bin/env bash
# An ext4 disk image of BASE with STAGE laid over it (overlayfs, in a mount namespace of its own).
#
#   tools/systemd-guest/make-image.sh BASE STAGE IMAGE
set -euo pipefail
base=$1 stage=$2 image=$3
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/sbin:/usr/sbin
megabytes=$(du -sm "$base" "$stage" | awk '{ sum += $1 } END { print int(sum * 1.2) + 512 }')
rm -f "$image"
truncate -s "${megabytes}M" "$image"
unshare --mount bash -euo pipefail -c '
    base=$1 stage=$2 image=$3
    merged=$(mktemp -d)
    mount -t overlay overlay -o "lowerdir=$stage:$base" "$merged"
    mkfs.ext4 -q -F -L rollcall -E root_owner=0:0 -d "$merged" "$image"
' _ "$base" "$stage" "$image"
