#!/usr/bin/env bash
# Installs the reference face pipeline (face_recognition 1.3.0 on dlib 19.24) into
# <repo>/.venv-reference. Safe to re-run: pip leaves satisfied pins alone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv-reference"
py="${PYTHON:-python3}"

[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
# Keep the venv out of git without touching the repository's own .gitignore.
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"

# dlib-bin is a prebuilt wheel of dlib (building dlib from source needs cmake and
# several minutes); face_recognition is installed without deps because it
# requires the source package "dlib", which would trigger that build.
# Pillow is pinned because it is the reference's image decoder (its bundled
# libjpeg-turbo fixes the pixels) and make_unseen.py's encoder.
"$venv/bin/pip" install --disable-pip-version-check -q \
    dlib-bin==19.24.6 face_recognition_models==0.3.0 numpy==2.4.6 pillow==13.0.0 click
"$venv/bin/pip" install --disable-pip-version-check -q --no-deps face_recognition==1.3.0
"$venv/bin/python" -c 'import face_recognition, dlib; print("reference ready: dlib", dlib.__version__)'
