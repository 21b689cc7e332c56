#!/usr/bin/env bash
# Compares rollcall with the reference at upsample 0 and 1 (boxes and landmarks identical, encodings
# within 1e-4 L2) on three sets: the fixtures; images derived from them (mirrors, crops, rescales,
# rotations, re-encodings, grey, palette, RGBA, collages); and photos neither side has seen, the
# sample images bundled in scikit-image's wheel from PyPI (a portrait, a photographer, and scenes
# without faces, which must give no face on either side).
#
#   tools/reference/compare-all.sh [ROLLCALL_BINARY]
#
# 16-bit PNGs are left out of the strict comparison on purpose: the reference's decoder clips
# 16-bit samples at 255 (a full-range 16-bit photo turns white), rollcall scales them to 8 bits.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rollcall=${1:-$repo/.build/release/rollcall}
fixtures=${ROLLCALL_FIXTURES:-$repo/../shared/fixtures}
export ROLLCALL_MODELS=${ROLLCALL_MODELS:-$repo/Models}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$here/setup.sh"
py=$repo/.venv-reference/bin/python
"$py" "$here/make_unseen.py" "$work/unseen" >/dev/null
cache=$repo/.venv-reference/independent
if [ ! -d "$cache" ]; then
    "$py" -m pip download --disable-pip-version-check -q --no-deps --only-binary :all: -d "$work/wheel" scikit-image==0.26.0
    mkdir -p "$cache.part"
    (cd "$cache.part" && "$py" -m zipfile -e "$work"/wheel/*.whl . && find . -path '*/skimage/data/*' \( -name '*.png' -o -name '*.jpg' \) -exec mv {} . \;)
    find "$cache.part" -mindepth 1 -type d -exec rm -rf {} +
    mv "$cache.part" "$cache"
fi
images=("$fixtures"/faces/* "$cache"/*)
for image in "$work"/unseen/*; do
    case "$(basename "$image")" in gray16*) ;; *) images+=("$image") ;; esac
done
echo "compare-all: ${#images[@]} images: fixtures, derived images (16-bit PNGs excluded), scikit-image's photos"

status=0
for upsample in 0 1; do
    "$py" "$here/reference.py" --upsample $upsample "${images[@]}" >"$work/reference-$upsample.jsonl"
    # libpng warns about the ICC profiles Pillow writes; keep stderr for when rollcall itself fails.
    "$rollcall" encode --upsample $upsample "${images[@]}" 2>"$work/errors" >"$work/rollcall-$upsample.jsonl" ||
        { cat "$work/errors" >&2; exit 1; }
    echo -n "upsample $upsample: "
    python3 "$here/compare.py" "$work/reference-$upsample.jsonl" "$work/rollcall-$upsample.jsonl" | tail -n 1 || status=1
done
exit $status
