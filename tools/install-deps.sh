#!/usr/bin/env bash
# Installs the Debian packages rollcall builds, runs and is tested with, and the tests' Python
# packages (from PyPI) into .venv-tests, a venv on Debian's python3. Idempotent: installs only what
# is missing, and runs `apt-get update` only when something is.
#
# Everything the build links and the tests call must come from this list, directly or through the
# packages' dependencies (not their recommends): tools/check-deps.sh checks that on every `make test`,
# and CI proves it in a fresh Debian root (tools/fresh-root.sh).
set -euo pipefail

packages=(
    libdlib-dev          # face detector, landmarks, descriptor network
    libopenblas-dev      # BLAS and LAPACK for dlib: the libblas.so/liblapack.so links are OpenBLAS's, so the
                         # fast BLAS is the one linked (a descriptor takes ~13 ms; ~140 ms with the reference BLAS)
    libopencv-dev        # image decoding and resizing
    libzbar-dev          # reading QR codes
    libqrencode-dev      # drawing QR codes (badges, test frames)
    libv4l-dev           # camera capture
    libsqlite3-dev       # the local event queue
    libsystemd-dev       # sd_notify: readiness, status and watchdog for systemd
    zlib1g-dev           # inflating the photos of a bulk enrollment's ZIP (the hub)
    pkg-config           # finds zbar, libqrencode, libv4l2, libsystemd and zlib for the build
    systemd              # systemd-analyze: tools/check-units.sh verifies the units and rates their hardening
    python3              # the test tools (tools/*.py) and the vivid guest's helpers run on Debian's Python
    python3-pip          # Models/fetch-models.sh downloads the models with pip
    python3-venv         # the tests' Python packages live in .venv-tests; make compare's reference in a venv
    chromium             # the end-to-end test shows the signage page in a real headless browser ...
    chromium-driver      # ... driven by selenium (from PyPI, below)
    qemu-system-x86      # the camera tests boot Debian's kernel with the real vivid driver (../shared/vivid),
    busybox-static       # ... with an initramfs built on busybox,
    kmod                 # ... depmod and modprobe for its modules,
    v4l-utils            # ... v4l2-ctl to configure vivid and stream test frames into it,
    qrencode             # ... qrencode to draw QR codes for it,
    zbar-tools           # ... zbarimg to read them back,
    udev                 # ... and systemd-udevd and udevadm to apply udev/99-rollcall-camera.rules there
    debootstrap          # the systemd guest test (make guest-test) builds a Debian root for its guest ...
    e2fsprogs            # ... and makes an ext4 disk image of it
    postgresql-15        # the hub's PostgreSQL store is tested against a real server: a throwaway cluster
                         # the tests start themselves (Sources/TestSupport/PostgresCluster.swift)
    nginx                # the load test runs deploy/nginx/rollcall-hub.conf on loopback in front of two hubs ...
    openssl              # ... over TLS, with a self-signed certificate it makes with openssl
    msmtp                # the hub's absence emails go through a sendmail command: msmtp to the loopback SMTP server
)

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: the Swift toolchain (6.2 or newer) is not on PATH; install it from swift.org first" >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all Debian packages present"
else
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Debian makes and starts a system-wide "main" PostgreSQL cluster when the server is installed; the
    # tests make their own, so a machine that had no PostgreSQL is not left running one.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        "${sudo[@]}" mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    # Debian starts nginx on port 80 when it is installed; the load test runs its own on loopback, so
    # no service is started by this install (policy-rc.d, only while it runs and only if there is none).
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 0755 "$policy"
        made_policy=1
    fi
    status=0
    "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || status=$?
    [ -z "$made_policy" ] || "${sudo[@]}" rm -f "$policy"
    [ "$status" -eq 0 ] || exit "$status"
fi

# The tests' Python packages, from PyPI, in a venv on Debian's python3 (Debian's Python is
# "externally managed": pip refuses to install into it). The Makefile puts .venv-tests/bin first on
# PATH, so `python3` in make's recipes and in the tests is this venv's.
python_packages=(selenium==4.27.1 schemathesis==4.32.5 axe-selenium-python==2.1.6 aiosmtpd==1.4.6
    cryptography==44.0.0)
venv=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-tests
if [ ! -x "$venv/bin/python3" ]; then
    echo "install-deps: making the tests' venv in $venv"
    /usr/bin/python3 -m venv "$venv"
fi
# `pip show` answers 0 when any one of several packages is there: each is asked for on its own.
python_missing=
for package in "${python_packages[@]%%==*}"; do
    "$venv/bin/python3" -m pip show -q "$package" >/dev/null 2>&1 || python_missing=1
done
if [ -n "$python_missing" ]; then
    echo "install-deps: installing ${python_packages[*]} from PyPI into $venv"
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check "${python_packages[@]}"
fi
