#!/usr/bin/env bash
# Installs the Debian packages rollcall builds and runs with. Idempotent: installs only what is
# missing, and runs `apt-get update` only when something is.
set -euo pipefail

packages=(
    libdlib-dev          # face detector, landmarks, descriptor network
    libopencv-dev        # image decoding and resizing
    libzbar-dev          # reading QR codes
    libqrencode-dev      # drawing QR codes (badges, test frames)
    libv4l-dev           # camera capture
    libsqlite3-dev       # the local event queue
    libsystemd-dev       # sd_notify: readiness, status and watchdog for systemd
    pkg-config
    systemd              # systemd-analyze: tools/check-units.sh verifies the units and rates their hardening
    libopenblas0-pthread # fast BLAS: a descriptor takes ~13 ms instead of ~140 ms with the reference BLAS
    python3-pip          # Models/fetch-models.sh downloads the models with pip
    python3-venv         # make compare installs the reference implementation in a venv
    chromium             # the end-to-end test shows the signage page in a real headless browser ...
    chromium-driver      # ... driven by selenium (from PyPI, below)
)
# Python packages the tests use, from PyPI.
python_packages=(selenium==4.27.1)

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
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! python3 -c 'import selenium' 2>/dev/null; then
    echo "install-deps: installing ${python_packages[*]} from PyPI"
    python3 -m pip install -q "${python_packages[@]}"
fi
