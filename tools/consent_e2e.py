#!/usr/bin/env python3
"""Consent at the door, end to end: a real `rollcall-hub serve` and a real `rollcall run` daemon.

1. The hub refuses a face template for anyone without consent on record (409), for a new person and for one
   whose guardian refused.
2. A consented student (templates from the fixture photos) is the only one in the gallery the door pulls; the
   student whose guardian refused is not, shows their student badge (the daemon replays a picture of it), is
   checked in by the hub as `qr`, and the door's screen greets them by name as it greets a face.
3. The consented student's guardian withdraws: the hub erases the templates at once (template count 0, the
   sealed record's old bytes nowhere in the hub's files) and the door drops the person with its next sync;
   afterwards no byte of the door's old sealed gallery is left in any file of its data folder.

    tools/consent_e2e.py --bin .build/debug
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
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
import instant_session_e2e  # noqa: E402  (its Browser: forms over plain HTTP)

FAILURES = []


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)) if detail else ''}", flush=True)
    if not condition:
        FAILURES.append(what)
        raise SystemExit(1)


def admin_status(hub, method, path, body):
    """The status of an admin call (the helper in doorlab raises on anything but 2xx)."""
    try:
        hub.admin(method, path, body)
        return 200
    except urllib.error.HTTPError as error:
        return error.code


def windows(blob, size=32, step=16):
    return [blob[i:i + size] for i in range(0, max(1, len(blob) - size), step)]


def traces(folder, blob):
    """Files under `folder` holding any 32-byte window of `blob`."""
    found = []
    pieces = windows(blob)
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                data = open(path, "rb").read()
            except OSError:
                continue
            if any(piece in data for piece in pieces):
                found.append(path)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    arguments = parser.parse_args()
    binaries = os.path.abspath(arguments.bin)
    rollcall, rollcall_hub = os.path.join(binaries, "rollcall"), os.path.join(binaries, "rollcall-hub")
    faces = os.path.join(os.environ.get("ROLLCALL_FIXTURES", os.path.join(REPO, "..", "shared", "fixtures")), "faces")
    for path in (rollcall, rollcall_hub, os.path.join(faces, "obama.jpg")):
        check(os.path.exists(path), f"{path} exists")
    work = tempfile.mkdtemp(prefix="rollcall-consent-")
    hub = daemon = None
    try:
        # Keys, a student badge for the student without consent, and the consented student's templates.
        run = lambda *args: subprocess.run(args, cwd=work, check=True, capture_output=True, text=True)  # noqa: E731
        key = json.loads(run(rollcall, "badge", "keygen", "--out", "badge.key", "--kid", "school-1").stdout)
        run(rollcall, "badge", "issue", "--key", "badge.key", "--kid", "school-1", "--subject", "p-nia",
            "--role", "student", "--expires", (datetime.now(timezone.utc) + timedelta(days=300)).strftime("%Y-%m-%d"),
            "--png", "nia-badge.png")
        run(rollcall, "enroll", "--gallery", "gallery.json", "--person", "p-obama", "--name", "Barack Obama",
            "--role", "student", os.path.join(faces, "obama.jpg"), os.path.join(faces, "obama2.jpg"))
        obama = json.load(open(os.path.join(work, "gallery.json")))["people"][0]
        obama["groups"] = ["7B"]

        db = os.path.join(work, "hub.sqlite")
        hub = doorlab.Hub(rollcall_hub, db, log=os.path.join(work, "hub.log"),
                          arguments=["--models", os.environ.get("ROLLCALL_MODELS", os.path.join(REPO, "Models"))]).start()
        hub.admin("POST", "/rooms", {"id": "B12", "timezone": "UTC"})
        hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
        hub.admin("POST", "/badge-keys", {"kid": key["kid"], "public_key": key["public_key"]})

        # 1. No template without consent.
        check(admin_status(hub, "POST", "/people", obama) == 409, "templates without consent on record: 409")
        check(admin_status(hub, "POST", "/people", dict(obama, consent=doorlab.CONSENT)) == 200,
              "templates with a guardian's consent: stored")
        nia = {"id": "p-nia", "name": "Nia Okafor", "role": "student", "groups": ["7B"], "templates": []}
        check(admin_status(hub, "POST", "/people", nia) == 200, "a student without templates: stored")
        check(admin_status(hub, "PUT", "/people/p-nia/consent",
                           {"state": "refused", "given_by": "guardian", "evidence": "form 2026-31"}) == 200,
              "the guardian's refusal: recorded")
        check(admin_status(hub, "POST", "/people", dict(nia, templates=obama["templates"][:1])) == 409,
              "templates for the student whose guardian refused: 409")
        listing = {p["id"]: p for p in hub.admin("GET", "/people")}
        check(listing["p-nia"]["consent"] == "refused" and listing["p-obama"]["consent"] == "granted"
              and listing["p-obama"]["templates"] == 2, "the people list shows each one's consent", listing)
        now = datetime.now(timezone.utc)
        hub.admin("POST", "/sessions", {"room": "B12", "sessions": [{
            "id": "s-now", "group": "7B", "start": doorlab.stamp(now - timedelta(minutes=2)),
            "end": doorlab.stamp(now + timedelta(minutes=45)), "roster": ["p-obama", "p-nia"]}]})

        # 2. The door: only the consented student in its gallery; the other checks in with the badge.
        # First without a camera, until it has synced (the schedule and the gallery); then the badge is shown.
        daemon = doorlab.Daemon(rollcall, work, hub.url, camera="/dev/rollcall-camera-absent", refresh_seconds=2,
                                log_level="debug")
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up", daemon.log()[-5:])
        synced = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["version"] > 0, 30)
        check(bool(synced), "the door has synced its schedule and gallery", daemon.log()[-5:])
        daemon.stop()
        daemon.write_config(replay=os.path.join(work, "nia-badge.png"))
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up again, replaying the picture of the badge")
        checkins = doorlab.wait_for(
            lambda: [c for c in hub.admin("GET", "/sessions/s-now/checkins") if c["person"] == "p-nia"], 60)
        check(bool(checkins) and checkins[0]["method"] == "qr" and checkins[0]["status"] == "present",
              "the student without consent is checked in by badge", checkins or daemon.log()[-8:])
        status = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["people"] == 1 and s, 30)
        check(bool(status) and status["gallery"]["templates"] == 2,
              "the door's gallery holds the consented student only", status and status["gallery"])
        request = urllib.request.Request(hub.url + "/api/v1/device/gallery?since=0",
                                         headers={"Authorization": f"Bearer {doorlab.TOKEN}"})
        pulled = json.loads(urllib.request.urlopen(request, timeout=10).read())
        check([p["id"] for p in pulled["upserts"]] == ["p-obama"], "what the hub sends the door: p-obama alone",
              [p["id"] for p in pulled["upserts"]])
        # The screen's greeting is made from the name the door resolves for the decision (its debug log line).
        greeting = doorlab.wait_for(lambda: [line for line in daemon.log() if "checkin: Nia Okafor" in line], 20)
        check(bool(greeting), "the screen greets her by name, as it greets a face check-in", daemon.log()[-5:])

        # 3. Withdrawal: erased on the hub now, and from the door with its next sync.
        outbox = os.path.join(work, "data", "outbox.sqlite")
        with sqlite3.connect(f"file:{outbox}?mode=ro", uri=True) as door_db:
            old_gallery = door_db.execute("SELECT value FROM deviceState WHERE key = 'gallery'").fetchone()[0]
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as hub_db:
            old_entry = hub_db.execute("SELECT entry FROM person WHERE id = 'p-obama'").fetchone()[0]
        began = time.monotonic()
        hub.admin("PUT", "/people/p-obama/consent",
                  {"state": "withdrawn", "given_by": "guardian", "evidence": "letter of 4 December"})
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as hub_db:
            row = hub_db.execute("SELECT templateCount, consent FROM person WHERE id = 'p-obama'").fetchone()
        check(row == (0, "withdrawn"), "the hub holds no template of the withdrawn student", row)
        left = traces(work, old_entry)
        check(not left, "no byte of the withdrawn student's old sealed record in the hub's files", left)
        emptied = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["people"] == 0, 30)
        took = time.monotonic() - began
        check(bool(emptied), f"the door dropped the withdrawn student with its next sync ({took:.1f} s, "
                             f"refresh every {daemon.refresh_seconds} s)")
        time.sleep(0.5)
        left = traces(os.path.join(work, "data"), old_gallery)
        check(not left, "no byte of the door's old sealed gallery in any file of its data folder", left)
        history = hub.admin("GET", "/people/p-obama/consent")
        check([h["state"] for h in history] == ["granted", "withdrawn"] and history[-1]["recorded_by"] == "token:admin",
              "the consent history keeps both decisions and who recorded them", history)
        export = hub.admin("GET", "/people/p-obama/export")
        check(export["gallery"]["templates"] == [] and [c["state"] for c in export["consent"]] == ["granted", "withdrawn"],
              "the subject-access export shows no template and the consent history")

        # 4. The office in the browser: a secretary records a guardian's consent for Nia, her photos are
        # checked as `rollcall enroll` checks them, and the accepted one is enrolled once confirmed.
        secret = os.path.join(work, "secretary-password")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write("correct horse battery\n")
        run(rollcall_hub, "account", "add", "grace", "--role", "secretary", "--name", "Grace Office",
            "--password-file", secret, "--db", db)
        browser = instant_session_e2e.Browser(hub.url)
        _, form = browser.get("/sign-in")
        browser.post("/sign-in", {"csrf": form.hidden["csrf"], "next": "/", "username": "grace",
                                  "password": "correct horse battery"})
        page, form = browser.get("/people")
        check("Nia Okafor" in page and "consent refused: badge" in page, "the people page lists Nia's refusal")
        page, form = browser.get("/people/p-nia")
        check("Check the photos" not in page, "no photo enrollment for Nia while her consent is refused")
        status, _ = browser.post("/people/p-nia/consent", {"csrf": form.hidden["csrf"], "state": "granted",
                                                            "by": "guardian", "evidence": "form 2026-40"})
        check(status == 303, "the secretary records the guardian's consent", status)
        page, form = browser.get("/people/p-nia")
        check("face check-in consented" in page and "form 2026-40" in page and "Check the photos" in page,
              "Nia's page shows the consent and offers enrollment")
        photos = [("photos", "biden.jpg", open(os.path.join(faces, "biden.jpg"), "rb").read()),
                  ("photos", "two_people.jpg", open(os.path.join(faces, "two_people.jpg"), "rb").read())]
        began = time.monotonic()
        status, page = browser.post_multipart("/people/p-nia/photos", {"csrf": form.hidden["csrf"]}, photos)
        checked_in = time.monotonic() - began
        check(status == 200 and "biden.jpg</strong>:\n    accepted" in page and "2 faces found" in page,
              f"the photos are checked in {checked_in:.1f} s: one accepted, one refused with the reason")
        confirm = instant_session_e2e.Inputs()
        confirm.feed(page)
        check(admin_status(hub, "GET", "/people", None) == 200
              and {p["id"]: p for p in hub.admin("GET", "/people")}["p-nia"]["templates"] == 0,
              "nothing is enrolled before the office confirms")
        forged = confirm.hidden["token"][:-8] + "AAAAAAA="
        status, _ = browser.post("/people/p-nia/photos/confirm", {"csrf": confirm.hidden["csrf"], "token": forged})
        check(status == 400, "a changed confirmation is refused", status)
        status, _ = browser.post("/people/p-nia/photos/confirm",
                                 {"csrf": confirm.hidden["csrf"], "token": confirm.hidden["token"]})
        listing = {p["id"]: p for p in hub.admin("GET", "/people")}
        check(status == 303 and listing["p-nia"]["templates"] == 1, "confirmed: Nia has one face template",
              listing["p-nia"])
        print(f"consent e2e: passed (withdrawal reached the door in {took:.1f} s; two photos checked in the "
              f"web app in {checked_in:.1f} s)")
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
