#!/usr/bin/env bash
# Generates the scenario video from the fixtures (the one the tests replay), enrolls its gallery from
# the fixture photos its manifest names, and replays it through the door's pipeline.
#
#   tools/scenario.sh [OUTDIR] [extra rollcall replay flags, e.g. --json]
#
# Needs release builds of rollcall and rollcall-scenario (make build does both), or the builds in the
# folder $ROLLCALL_BIN names (the tests use their debug builds). $ROLLCALL_SCENARIO_FPS, if set, stamps the
# video at that rate (rollcall-scenario --fps): the systemd guest's emulated door, which analyses about one
# frame a second, plays it at 5.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/.build/scenario}
shift || true
fixtures=${ROLLCALL_FIXTURES:-$repo/../shared/fixtures}
bin=${ROLLCALL_BIN:-$repo/.build/release}
rollcall=$bin/rollcall
export ROLLCALL_MODELS=${ROLLCALL_MODELS:-$repo/Models}

"$bin/rollcall-scenario" --fixtures "$fixtures/faces" ${ROLLCALL_SCENARIO_FPS:+--fps "$ROLLCALL_SCENARIO_FPS"} "$out" >&2
rm -f "$out/gallery.json"
python3 - "$out/manifest.json" "$fixtures/faces" <<'PY' | while IFS=$'\t' read -r person name role images; do
import json, sys
manifest = json.load(open(sys.argv[1]))
for entry in manifest["gallery"]:
    images = " ".join(f"{sys.argv[2]}/{image}" for image in entry["images"])
    print("\t".join([entry["person"], entry["name"], entry["role"], images]))
PY
    # shellcheck disable=SC2086 # the image paths are split on purpose
    "$rollcall" enroll --gallery "$out/gallery.json" --person "$person" --name "$name" --role "$role" $images >&2
done
start=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["start"])' "$out/manifest.json")
exec "$rollcall" replay "$out/scenario.avi" --gallery "$out/gallery.json" --sessions "$out/sessions.json" \
    --badge-keys "$out/badge-keys.json" --start "$start" "$@"
