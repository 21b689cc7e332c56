#!/usr/bin/env python3
"""Template refresh end to end: a real `rollcall-hub serve --template-refresh` and a real `rollcall run` daemon.

Obama is enrolled (with his guardian's consent) from one template only: the reference's encoding of
obama_partial_face.jpg. The door replays obama.jpg, a good frontal photo 0.235 from that template: a sure
check-in, whose encoding the door offers the hub. The hub adds it as a template (source `refresh:...`), the
audit trail says which door, and the door gets it with its next gallery delta. With the hub's refresh off (the
default) the manifest says so and a sighting is refused.

    tools/refresh_e2e.py --bin .build/debug
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import doorlab  # noqa: E402

FAILURES = []


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)) if detail else ''}", flush=True)
    if not condition:
        FAILURES.append(what)
        raise SystemExit(1)


def device_get(hub, path):
    request = urllib.request.Request(hub.url + path, headers={"Authorization": f"Bearer {doorlab.TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    arguments = parser.parse_args()
    binaries = os.path.abspath(arguments.bin)
    rollcall, rollcall_hub = os.path.join(binaries, "rollcall"), os.path.join(binaries, "rollcall-hub")
    fixtures = os.environ.get("ROLLCALL_FIXTURES", os.path.join(REPO, "..", "shared", "fixtures"))
    expected = os.path.join(fixtures, "faces-expected.json")
    for path in (rollcall, rollcall_hub, expected):
        check(os.path.exists(path), f"{path} exists")
    images = json.load(open(expected))["images"]
    enrolled = images["obama_partial_face.jpg"]["faces_upsample1"][0]["encoding"]
    work = tempfile.mkdtemp(prefix="rollcall-refresh-")
    hub = daemon = None
    try:
        db = os.path.join(work, "hub.sqlite")
        hub = doorlab.Hub(rollcall_hub, db, log=os.path.join(work, "hub.log"), arguments=["--template-refresh"]).start()
        hub.admin("POST", "/rooms", {"id": "B12", "timezone": "UTC"})
        hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
        hub.admin("POST", "/people", {
            "id": "p-obama", "name": "Barack Obama", "role": "student", "groups": ["7B"], "consent": doorlab.CONSENT,
            "templates": [{"source": "obama_partial_face.jpg", "encoding": enrolled, "model": "dlib_resnet_v1"}]})
        now = datetime.now(timezone.utc)
        hub.admin("POST", "/sessions", {"room": "B12", "sessions": [{
            "id": "s-now", "group": "7B", "start": doorlab.stamp(now - timedelta(minutes=2)),
            "end": doorlab.stamp(now + timedelta(minutes=45)), "roster": ["p-obama"]}]})
        check(device_get(hub, "/api/v1/device/manifest").get("template_refresh") is True,
              "the manifest tells the door that the hub takes sightings")

        daemon = doorlab.Daemon(rollcall, work, hub.url, camera="/dev/rollcall-camera-absent", refresh_seconds=2)
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up", daemon.log()[-5:])
        synced = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["version"] > 0, 30)
        check(bool(synced), "the door has synced its schedule and gallery", daemon.log()[-5:])
        daemon.stop()
        # A still photo, ten frames of it: a track needs several frames to agree.
        frames = os.path.join(work, "frames")
        os.makedirs(frames)
        for index in range(10):
            shutil.copy(os.path.join(fixtures, "faces", "obama.jpg"), os.path.join(frames, f"{index:03d}.jpg"))
        # A still photo is what the presentation-attack check refuses (no depth in ten frames): this test
        # is about the template refresh, so the door runs with the check off, as a photo demonstration would.
        daemon.write_config(replay=frames, presentation_check=False)
        began = time.monotonic()
        daemon.start()
        checkins = doorlab.wait_for(lambda: hub.admin("GET", "/sessions/s-now/checkins"), 60)
        check(bool(checkins) and checkins[0]["person"] == "p-obama" and checkins[0]["method"] == "face",
              "Obama is checked in by face at the door", checkins or "\n".join(daemon.log()[-15:]))
        added = doorlab.wait_for(
            lambda: (people := [p for p in hub.admin("GET", "/people") if p["id"] == "p-obama"])
            and people[0]["templates"] == 2, 30)
        took = time.monotonic() - began
        check(bool(added), f"the hub added the door's sighting as a second template ({took:.1f} s after the "
                           f"daemon started)", [line for line in daemon.log() if "template refresh" in line][-3:])
        export = hub.admin("GET", "/people/p-obama/export")
        sources = [t.get("source", "") for t in export["gallery"]["templates"]]
        check(sources[0] == "obama_partial_face.jpg" and sources[1].startswith("refresh:")
              and sources[1].endswith("/" + doorlab.DEVICE), "the enrolled template stays; the added one names "
              "the door", sources)
        audit = [e for e in export.get("audit", []) if e.get("action") == "template-refresh"]
        check(len(audit) == 1 and audit[0]["actor"] == f"device:{doorlab.DEVICE}"
              and str(audit[0]["at"]).startswith(str(datetime.now(timezone.utc).year)),
              "the audit trail has the refresh, by the door", audit)
        status = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["templates"] == 2 and s, 30)
        check(bool(status), "the door has the added template with its next gallery delta")
        print(f"refresh e2e: template added {took:.1f} s after the daemon started replaying", flush=True)
        daemon.stop()

        # Off (the default): the manifest says so, and a sighting is refused.
        hub.stop()
        hub.arguments = []
        hub.start()
        check(device_get(hub, "/api/v1/device/manifest").get("template_refresh") is False,
              "with the hub's refresh off the manifest says so")
        request = urllib.request.Request(hub.url + "/api/v1/device/sightings", method="POST", data=json.dumps({
            "person": "p-obama", "encoding": enrolled, "distance": 0.1, "margin": 1}).encode(),
            headers={"Authorization": f"Bearer {doorlab.TOKEN}", "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10)
            refused = None
        except urllib.error.HTTPError as error:
            refused = error.code
        check(refused == 403, "and a sighting is refused (403)", refused)
        print("refresh e2e: passed")
    finally:
        if daemon:
            daemon.stop()
        if hub:
            hub.stop()
        if FAILURES:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
