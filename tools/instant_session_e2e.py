#!/usr/bin/env python3
"""A session started from the web app is open at the door within seconds, and a check-in lands in it.

A real `rollcall-hub serve` and a real `rollcall run` daemon (refreshing only every 300 s, its default, so
that only the push channel can bring the session in time). A teacher signs in to the web app (plain HTTP,
as a phone's browser would post the forms: the sign-in form's token, then the session's), opens "Start a
session now", and starts one for group 7B in room B12. Measured: from the first tap (the GET of the form) and
from the POST to the door's `/status` naming the new session (the push channel, `GET /api/v1/device/changes`,
then the door's pull). Then the student shows their badge and the check-in is stored in the new session.

    tools/instant_session_e2e.py --bin .build/debug [--runs 3]
"""

import argparse
import html.parser
import http.cookiejar
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
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


class Inputs(html.parser.HTMLParser):
    """The hidden inputs and the options of the selects of a page."""

    def __init__(self):
        super().__init__()
        self.hidden, self.options = {}, []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes.get("name")] = attributes.get("value") or ""
        elif tag == "option":
            self.options.append(attributes.get("value"))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *arguments):
        return None


class Browser:
    """Cookies and forms over plain HTTP, with the headers a browser sends for a same-site form."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def get(self, path):
        with self.opener.open(self.base + path, timeout=10) as response:
            page = response.read().decode()
        inputs = Inputs()
        inputs.feed(page)
        return page, inputs

    def post_multipart(self, path, fields, files):
        """A multipart/form-data POST (a form with files): the status and the page."""
        boundary = "----rollcall" + os.urandom(8).hex()
        body = b""
        for name, value in fields.items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
        for name, filename, data in files:
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                     f"Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.base + path, data=body, method="POST",
            headers={"Origin": self.base, "Sec-Fetch-Site": "same-origin",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path, fields):
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"Origin": self.base, "Sec-Fetch-Site": "same-origin",
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers.get("Location")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    parser.add_argument("--runs", type=int, default=3, help="sessions started, one after the other")
    arguments = parser.parse_args()
    binaries = os.path.abspath(arguments.bin)
    rollcall, rollcall_hub = os.path.join(binaries, "rollcall"), os.path.join(binaries, "rollcall-hub")
    work = tempfile.mkdtemp(prefix="rollcall-instant-")
    hub = daemon = None
    try:
        run = lambda *args: subprocess.run(args, cwd=work, check=True, capture_output=True, text=True)  # noqa: E731
        key = json.loads(run(rollcall, "badge", "keygen", "--out", "badge.key", "--kid", "school-1").stdout)
        run(rollcall, "badge", "issue", "--key", "badge.key", "--kid", "school-1", "--subject", "p-ines",
            "--role", "student", "--expires", (datetime.now(timezone.utc) + timedelta(days=300)).strftime("%Y-%m-%d"),
            "--png", "badge.png")
        db = os.path.join(work, "hub.sqlite")
        hub = doorlab.Hub(rollcall_hub, db, log=os.path.join(work, "hub.log")).start()
        hub.admin("POST", "/rooms", {"id": "B12", "timezone": "UTC"})
        hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
        hub.admin("POST", "/badge-keys", {"kid": key["kid"], "public_key": key["public_key"]})
        for person, name in (("p-ines", "Ines Ito"), ("p-jon", "Jon Jones")):
            hub.admin("POST", "/people", {"id": person, "name": name, "role": "student", "groups": ["7B"],
                                          "templates": []})
        # Yesterday's maths lesson links the teacher to 7B and the room to the school's timetable.
        yesterday = datetime.now(timezone.utc) - timedelta(days=1)
        hub.admin("POST", "/sessions", {"room": "B12", "sessions": [{
            "id": "s-yesterday", "group": "7B", "start": doorlab.stamp(yesterday),
            "end": doorlab.stamp(yesterday + timedelta(minutes=45)), "roster": ["p-ines", "p-jon"]}]})
        hub.admin("PUT", "/sessions/s-yesterday/teachers", {"teachers": ["lovelace"]})
        secret = os.path.join(work, "teacher-password")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write("correct horse battery\n")
        run(rollcall_hub, "account", "add", "lovelace", "--role", "teacher", "--name", "Ada Lovelace",
            "--password-file", secret, "--db", db)

        # The door, refreshing only every 5 minutes: the push channel must bring the session.
        daemon = doorlab.Daemon(rollcall, work, hub.url, camera="/dev/rollcall-camera-absent", refresh_seconds=300)
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up", daemon.log()[-5:])
        check(bool(doorlab.wait_for(lambda: (s := daemon.status()) and s["sync"]["online"], 30)),
              "the door has synced once (at start)")

        browser = Browser(hub.url)
        _, form = browser.get("/sign-in")
        status, _ = browser.post("/sign-in", {"csrf": form.hidden["csrf"], "next": "/", "username": "lovelace",
                                              "password": "correct horse battery"})
        check(status == 303, "the teacher signs in", status)
        from_tap, from_post, created = [], [], []
        for attempt in range(arguments.runs):
            tapped = time.monotonic()
            page, form = browser.get("/sessions/new")
            check("7B" in form.options and "B12" in form.options, "the form offers group 7B and room B12",
                  form.options)
            posted = time.monotonic()
            status, location = browser.post("/sessions/new", {"csrf": form.hidden["csrf"], "group": "7B",
                                                              "room": "B12", "minutes": "45"})
            check(status == 303 and location.startswith("/live/sessions/now-"),
                  "the session is started; the live roll call opens", (status, location))
            session = urllib.parse.unquote(location.rsplit("/", 1)[1])
            opened = doorlab.wait_for(
                lambda: (s := daemon.status()) and (s.get("session") or {}).get("id") == session, 10, interval=0.02)
            arrived = time.monotonic()
            check(bool(opened), f"session {attempt + 1} is open at the door", (daemon.status() or {}).get("session"))
            from_tap.append(arrived - tapped)
            from_post.append(arrived - posted)
            created.append(session)
        print(f"instant session: open at the door {statistics.median(from_post):.2f} s after the POST (median of "
              f"{len(from_post)}, max {max(from_post):.2f}), {statistics.median(from_tap):.2f} s after the first tap "
              f"(max {max(from_tap):.2f})", flush=True)
        check(max(from_tap) < 5, "every session was open at the door within 5 s of the first tap",
              [round(x, 2) for x in from_tap])

        # The student shows the badge (the daemon, restarted on a picture of it): the check-in is in the session.
        daemon.stop()
        daemon.write_config(replay=os.path.join(work, "badge.png"))
        shown = time.monotonic()
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up again, replaying the picture of the badge")
        landed = doorlab.wait_for(lambda: hub.admin("GET", f"/sessions/{created[-1]}/checkins"), 30)
        check(bool(landed) and landed[0]["person"] == "p-ines" and landed[0]["method"] == "qr",
              "the check-in lands in the new session", landed)
        print(f"instant session: the badge's check-in stored at the hub {time.monotonic() - shown:.2f} s after the "
              f"daemon started on it; first tap to a check-in possible: {max(from_tap):.2f} s", flush=True)
        log = open(os.path.join(work, "hub.log")).read()
        check("session started from the web app" in log, "the hub logged who started the session")
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
