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
4. In the web app a secretary records a guardian's consent and enrolls the student from photos.
5. Bulk enrollment in the web app: a CSV of five people and a ZIP of fixture photos (a consented student with
   two good photos, one whose photo shows two people, one without consent, one whose photo is not in the ZIP,
   a volunteer without photos), checked by the hub's real vision core; the report streams one JSON line per
   row; the hub's gallery (the admin API) holds exactly the accepted templates. Then the same in headless
   chromium, replacing the earlier templates: the progress bar moves row by row and the table fills in.
   Prints the time per photo.

    tools/consent_e2e.py --bin .build/debug
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import doorlab  # noqa: E402
import sealed  # noqa: E402
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


def sealed_copies(database, accept):
    """The pieces of every sealed value in `database`'s file and its log (raw bytes) that opens with the
    key beside it (`<database>.key`, where the hub and the door keep it when none is given) and that
    `accept` takes: a value longer than a page lies in several pieces, each looked for on its own."""
    key = open(database + ".key", "rb").read()
    files = [(open(database + suffix, "rb").read(), suffix == "-wal") for suffix in ("", "-wal")
             if os.path.exists(database + suffix)]
    return [piece for pieces, _ in sealed.find(files, key, accept) for piece in pieces]


# The bulk enrollment's CSV: the columns of `rollcall-hub import people`.
BULK_CSV = """id,name,role,groups,photos,consent,evidence
s-olu,Olu Okafor,student,7B,obama.jpg;class7b/obama2.jpg,guardian,form 2026-61
s-duo,Dee Duo,student,7B,two_people.jpg,self,form 2026-62
s-none,Noa None,student,7B,obama3.jpg,,
s-gone,Gus Gone,student,7B,gus.jpg,guardian,form 2026-64
v-vic,Vic Volunteer,volunteer,,,,
"""


def bulk_zip(faces, path):
    """The ZIP of the bulk enrollment's photos, as a Mac makes one: a folder, and `__MACOSX/` copies."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(os.path.join(faces, "obama.jpg"), "obama.jpg")
        archive.writestr("class7b/", "")
        archive.write(os.path.join(faces, "obama2.jpg"), "class7b/obama2.jpg")
        archive.write(os.path.join(faces, "two_people.jpg"), "two_people.jpg")
        archive.write(os.path.join(faces, "obama3.jpg"), "obama3.jpg")
        archive.writestr("__MACOSX/._obama.jpg", b"\x00\x05\x16\x07 not a photo")
    return open(path, "rb").read()


def bulk_upload(browser, csrf, csv, archive, replace=False):
    """A bulk enrollment posted as the page's script posts it (JSON lines): the status and each line with the
    seconds from the POST to its arrival."""
    boundary = "----rollcall" + os.urandom(8).hex()
    parts = [("csrf", None, csrf.encode())] + ([("replace", None, b"1")] if replace else [])
    parts += [("csv", "people.csv", csv), ("photos", "photos.zip", archive)]
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        browser.base + "/people/bulk", data=body, method="POST",
        headers={"Origin": browser.base, "Sec-Fetch-Site": "same-origin", "Accept": "application/x-ndjson",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    began = time.monotonic()
    lines = []
    try:
        with browser.opener.open(request, timeout=300) as response:
            for raw in response:
                if raw.strip():
                    lines.append((time.monotonic() - began, json.loads(raw)))
            return response.status, response.headers, lines
    except urllib.error.HTTPError as error:
        return error.code, error.headers, [(0, {"page": error.read().decode()})]


def gallery_counts(hub):
    """Each person's template count, from the admin API (people with none left out)."""
    return {p["id"]: p["templates"] for p in hub.admin("GET", "/people") if p["templates"]}


def bulk_in_chromium(base, csv_path, zip_path, out):
    """The bulk form in headless chromium, replacing earlier templates: what the progress bar showed while
    the hub worked, the results table and the screenshot's path."""
    sys.path.insert(0, os.path.join(HERE, "signage"))
    import check_page  # noqa: E402  (selenium; chromium started as the other browser tests start it)
    driver = check_page.open_browser(1280, 900)
    try:
        driver.get(base + "/sign-in")
        driver.find_element("id", "username").send_keys("grace")
        driver.find_element("id", "password").send_keys("correct horse battery")
        driver.find_element("css selector", "form.card button[type=submit]").click()
        check(bool(doorlab.wait_for(lambda: "/sign-in" not in driver.current_url, 10)), "chromium: signed in")
        driver.get(base + "/people")
        driver.find_element("css selector", "#bulk summary").click()
        driver.find_element("id", "bulk-csv").send_keys(csv_path)
        driver.find_element("id", "bulk-zip").send_keys(zip_path)
        driver.find_element("id", "bulk-replace").click()
        driver.find_element("css selector", "#bulk-form button[type=submit]").click()
        seen, state, deadline = [], None, time.monotonic() + 180
        while time.monotonic() < deadline:
            state = driver.execute_script(
                "const bar = document.getElementById('bulk-bar');"
                "return [document.body.dataset.bulk || '', bar.hasAttribute('value') ? bar.value : -1, bar.max,"
                " bar.getAttribute('aria-valuetext') || '',"
                " document.querySelectorAll('#bulk-results tbody tr').length];")
            if not seen or seen[-1] != state:
                seen.append(state)
            if state[0] in ("done", "failed"):
                break
            time.sleep(0.03)
        rows = [(row.get_attribute("class"), row.get_attribute("data-id"), row.text)
                for row in driver.find_elements("css selector", "#bulk-results tbody tr")]
        summary = driver.find_element("id", "bulk-summary").text
        problem = driver.find_element("id", "bulk-problem").text
        arrivals = driver.execute_script("return window.rollcallBulk;")
        download = driver.find_element("id", "bulk-download").get_attribute("href")
        # axe-core on the page as the office sees it at the end (as tools/webapp_e2e.py checks every page).
        from axe_selenium_python import Axe  # noqa: E402
        axe = Axe(driver)
        axe.inject()
        violations = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:200]}" for v in axe.run()["violations"]
                      if v.get("impact") in ("serious", "critical")]
        os.makedirs(out, exist_ok=True)
        height = driver.execute_script("return Math.max(document.body.scrollHeight, window.innerHeight)")
        driver.set_window_size(1280, min(height + 140, 4000))
        shot = os.path.join(out, "bulk-enrollment-1280.png")
        driver.save_screenshot(shot)
        driver.set_window_size(390, 844)
        phone_height = driver.execute_script("return Math.max(document.body.scrollHeight, window.innerHeight)")
        driver.set_window_size(390, min(phone_height + 140, 4000))
        driver.save_screenshot(os.path.join(out, "bulk-enrollment-390.png"))
        overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        return {"seen": seen, "state": state, "rows": rows, "summary": summary, "problem": problem,
                "arrivals": arrivals, "download": download, "shot": shot, "overflow": overflow,
                "violations": violations}
    finally:
        driver.quit()


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
        # The sealed records to look for afterwards, found in the files' raw bytes with the data keys
        # (no database is opened): every sealed copy of the door's gallery holding the student, and of the
        # hub's record of the student with templates.
        outbox = os.path.join(work, "data", "outbox.sqlite")
        old_galleries = sealed_copies(outbox, lambda value: isinstance(value, dict) and any(
            person.get("id") == "p-obama" and person.get("templates") for person in value.get("people", [])))
        check(bool(old_galleries), "the door's sealed gallery with the student is found in its outbox's bytes")
        old_entries = sealed_copies(db, lambda value: isinstance(value, dict) and value.get("id") == "p-obama"
                                    and bool(value.get("templates")))
        check(bool(old_entries), "the hub's sealed record of the student is found in its database's bytes")
        began = time.monotonic()
        hub.admin("PUT", "/people/p-obama/consent",
                  {"state": "withdrawn", "given_by": "guardian", "evidence": "letter of 4 December"})
        row = next((p for p in hub.admin("GET", "/people") if p["id"] == "p-obama"), {})
        check((row.get("templates"), row.get("consent")) == (0, "withdrawn"),
              "the hub holds no template of the withdrawn student", row)
        left = [path for blob in old_entries for path in traces(work, blob)]
        check(not left, "no byte of the withdrawn student's old sealed record in the hub's files", left)
        emptied = doorlab.wait_for(lambda: (s := daemon.status()) and s["gallery"]["people"] == 0, 30)
        took = time.monotonic() - began
        check(bool(emptied), f"the door dropped the withdrawn student with its next sync ({took:.1f} s, "
                             f"refresh every {daemon.refresh_seconds} s)")
        time.sleep(0.5)
        left = [path for blob in old_galleries for path in traces(os.path.join(work, "data"), blob)]
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

        # 5. Bulk enrollment: a CSV and a ZIP of photos, every row checked by the real vision core.
        page, form = browser.get("/people")
        check("Bulk enrollment" in page and 'action="/people/bulk"' in page, "the people page offers bulk enrollment")
        csv_path = os.path.join(work, "people.csv")
        with open(csv_path, "w") as handle:
            handle.write(BULK_CSV)
        zip_path = os.path.join(work, "photos.zip")
        archive = bulk_zip(faces, zip_path)
        status, headers, lines = bulk_upload(browser, form.hidden["csrf"], BULK_CSV.encode(), archive)
        check(status == 200 and headers.get("Content-Type", "").startswith("application/x-ndjson")
              and headers.get("X-Accel-Buffering") == "no", "the bulk upload answers with JSON lines", (status, lines[:1]))
        kinds = [line["type"] for _, line in lines]
        check(kinds == ["start"] + ["row"] * 5 + ["summary"], "one line per row, between a start and a summary", kinds)
        report = {line["id"]: line for _, line in lines if line["type"] == "row"}
        for person, line in report.items():
            print(f"     {line['text']}")
        check(report["s-olu"]["outcome"] == "stored" and report["s-olu"]["enrolled"] == 2
              and report["s-olu"]["consent"] == "guardian (form 2026-61)",
              "the consented student's two photos are enrolled, the guardian's consent recorded", report["s-olu"])
        check(report["s-duo"]["outcome"] == "refused" and report["s-duo"]["refusals"][0].startswith(
            "two_people.jpg: 2 faces found: use a photo with exactly one face"),
              "the photo showing two people is refused with the reason", report["s-duo"]["refusals"])
        check(report["s-none"]["outcome"] == "refused" and report["s-none"]["checked"] == 0
              and "has no consent on record" in report["s-none"]["refusals"][0],
              "the student without consent is refused, no photo examined", report["s-none"]["refusals"])
        check(report["s-gone"]["refusals"] == ["gus.jpg: not in the ZIP"] and report["s-gone"]["outcome"] == "refused",
              "the photo missing from the ZIP is reported", report["s-gone"]["refusals"])
        check(report["v-vic"]["outcome"] == "stored" and report["v-vic"]["text"].endswith("0 of 0 photos enrolled"),
              "the volunteer without photos is stored")
        summary = lines[-1][1]
        check(summary["text"] == "2 of 5 people stored, 6 problems" and summary["checked"] == 3,
              "the summary: as `rollcall-hub import people` counts", summary["text"])
        arrived = [at for at, line in lines if line["type"] == "row"]
        check(arrived[0] < lines[-1][0], "the first row's line arrived before the last row was done "
                                         f"({arrived[0]:.2f} s and {lines[-1][0]:.2f} s after the POST)")
        per_photo = summary["seconds"] / max(1, summary["checked"])
        counts = gallery_counts(hub)
        check(counts == {"p-nia": 1, "s-olu": 2}, "the hub's gallery holds exactly the accepted templates", counts)
        people = {p["id"]: p for p in hub.admin("GET", "/people")}
        check("s-duo" not in people and "s-none" not in people and "s-gone" not in people
              and people["v-vic"]["role"] == "volunteer" and people["s-olu"]["consent"] == "granted",
              "the refused rows stored nothing; the volunteer is stored", sorted(people))
        sources = [t.get("source") for t in hub.admin("GET", "/people/s-olu/export")["gallery"]["templates"]]
        check(sources == ["obama.jpg", "class7b/obama2.jpg"], "s-olu's templates name their photos", sources)

        # The same in headless chromium, replacing the earlier templates: live progress, then the table.
        seen = bulk_in_chromium(hub.url, csv_path, zip_path, os.path.join(REPO, ".build", "consent-e2e"))
        check(seen["state"][0] == "done", "chromium: the bulk enrollment finished", (seen["state"], seen["problem"]))
        moving = sorted({value for _, value, _, _, _ in seen["seen"] if 0 < value < 5})
        check(moving and seen["state"][1:4] == [5, 5, "done"],
              f"chromium: the progress bar moved row by row while the hub worked (values {moving} seen, then 5 of 5)",
              seen["seen"])
        check(any(text.startswith("row ") and " of 5" in text for _, _, _, text, _ in seen["seen"]),
              "chromium: the progress bar says which row it is at (aria-valuetext)", seen["seen"])
        check([(kind, person) for kind, person, _ in seen["rows"]]
              == [("stored", "s-olu"), ("refused", "s-duo"), ("refused", "s-none"), ("refused", "s-gone"),
                  ("stored", "v-vic")], "chromium: the results table has a row per person with its outcome",
              seen["rows"])
        check("2 faces found" in seen["rows"][1][2] and "not in the ZIP" in seen["rows"][3][2],
              "chromium: the table shows the reasons")
        check(seen["summary"].startswith("2 of 5 people stored, 6 problems.") and seen["download"].startswith("blob:"),
              "chromium: the summary and the report's download", seen["summary"])
        check(not seen["overflow"], "chromium: the page fits a phone's width")
        check(not seen["violations"], "chromium: axe-core finds no serious or critical violation on the report",
              seen["violations"])
        rows_at = sorted({entry["at"] for entry in seen["arrivals"] if entry["type"] == "row"})
        summary_at = max(entry["at"] for entry in seen["arrivals"] if entry["type"] == "summary")
        check(rows_at[0] < summary_at, "chromium: the script read the rows as they came "
                                       f"(the first {summary_at - rows_at[0]} ms before the summary)")
        counts = gallery_counts(hub)
        check(counts == {"p-nia": 1, "s-olu": 2}, "replacing: s-olu's two templates replaced by the two new", counts)
        print(f"     screenshots: {seen['shot']} (and -390.png)")
        print(f"bulk enrollment: {summary['checked']} photos checked in {summary['seconds']:.2f} s at the hub, "
              f"{per_photo:.2f} s a photo (the models already loaded); first row's line {arrived[0]:.2f} s, "
              f"summary {lines[-1][0]:.2f} s after the POST")
        print(f"consent e2e: passed (withdrawal reached the door in {took:.1f} s; two photos checked in the "
              f"web app in {checked_in:.1f} s; bulk enrollment {per_photo:.2f} s a photo)")
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
