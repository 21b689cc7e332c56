#!/usr/bin/env bash
# Fails when a library Package.swift links or a command the Makefile and the tests call does not come
# from a package that tools/install-deps.sh installs (directly or through its dependencies): the check
# that a used machine cannot fool. Details and options: tools/check_deps.py --help.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 (install-deps.sh installs it); any python3 if this runs before that.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { echo "check-deps: no python3: run tools/install-deps.sh" >&2; exit 2; }
exec "$python" "$here/check_deps.py" "$@"
