#!/usr/bin/env bash
# Checks the systemd units (run by `make test`):
#  1. `systemd-analyze verify` on systemd/rollcall.service, rollcall-hub.service and rollcall-screen.service: any line
#     it prints (an unknown key, a bad value, a missing binary, a dependency that does not exist) fails.
#     verify resolves ExecStart= binaries and the units the files depend on against the running system, so
#     it runs with --root on a scratch tree holding the units, this machine's own unit directory, and
#     stand-ins for the binaries the units start (rollcall, rollcall-hub, cage, chromium, kill, find), which need not be
#     installed here.
#  2. `systemd-analyze security --offline=yes` on rollcall.service and rollcall-hub.service: the overall
#     exposure must be 2.0 or lower.
# That the units also work is shown under a real systemd by tools/systemd_guest.py (make guest-test).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v systemd-analyze >/dev/null || { echo "check-units: systemd-analyze is missing (Debian's systemd package)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -r /lib/systemd/system "$root/usr/lib/systemd/system"
for binary in /usr/local/bin/rollcall /usr/local/bin/rollcall-hub /usr/bin/cage /usr/bin/chromium /bin/kill /usr/bin/find; do
    mkdir -p "$root$(dirname "$binary")"
    printf '#!/bin/sh\n' >"$root$binary"
    chmod +x "$root$binary"
done
status=0
for unit in rollcall.service rollcall-hub.service rollcall-screen.service; do
    cp "systemd/$unit" "$root/etc/systemd/system/$unit"
    output=$(systemd-analyze verify --man=no --root="$root" "/etc/systemd/system/$unit" 2>&1) || true
    if [ -n "$output" ]; then
        echo "FAIL systemd-analyze verify $unit:"
        echo "$output" | sed 's/^/     /'
        status=1
    else
        echo "ok   systemd-analyze verify $unit: clean"
    fi
done

for unit in rollcall.service rollcall-hub.service; do
    cp "systemd/$unit" "$root/$unit"
    report=$(systemd-analyze security --offline=yes "$root/$unit" 2>&1 || true)
    score=$(echo "$report" | sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p")
    if [ -z "$score" ]; then
        echo "FAIL systemd-analyze security $unit: no score in its output:"
        echo "$report" | tail -n 5 | sed 's/^/     /'
        status=1
    elif awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        echo "ok   systemd-analyze security $unit: exposure $score (2.0 or lower required)"
    else
        echo "FAIL systemd-analyze security $unit: exposure $score, above 2.0:"
        echo "$report" | grep '✗' | sed 's/^/     /'
        status=1
    fi
done
exit $status
