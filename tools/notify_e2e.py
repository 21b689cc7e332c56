#!/usr/bin/env python3
"""Absence messages to guardians, end to end: a real `rollcall-hub serve`, a real `rollcall run` daemon, a
real SMTP server on loopback (aiosmtpd, from PyPI) reached through the hub's sendmail interface (msmtp, from
Debian), and a webhook receiver that checks the HMAC signature.

Maths started 25 minutes ago for Ada, Ben, Cy and Dee; Art 22 minutes ago for Ada again; Music 10 minutes
ago for Eve. Ben shows his student badge at the door (the daemon replays a picture of it) and is checked in;
Cy is excused by staff. Then the hub is started with its messages on, looking every 2 s:
- Ada's guardians (two addresses) get one email each, exactly once (not a second one for Art: once per
  student and day), naming Ada, Maths, the room and the time, and nobody else; Dee (no address on record)
  gets none; Ben, Cy and Eve (her session began only 10 minutes ago, under the 20) get none.
- The webhook gets one signed message for Ada and one for Dee.
- Fay missed her last three sessions (three days ago, two days ago, and one that ended 7.5 hours ago): her
  teacher in the last one, Ms Hopper (an account with an email address, `rollcall-hub account add --email`),
  gets one pastoral alert listing the three, naming Fay and nobody else; Mr Turing, who also teaches it but has
  no address, gets nothing, and neither do Fay's guardians (the last session is over 8 hours old).
- The hub is restarted on the same database: nothing is sent twice.
- The outbox (GET /api/v1/admin/notifications) lists what was sent.

    tools/notify_e2e.py --bin .build/debug
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import doorlab  # noqa: E402

FAILURES = []
SECRET = "webhook-signing-key-0123456789"


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)) if detail else ''}", flush=True)
    if not condition:
        FAILURES.append(what)
        raise SystemExit(1)


class Mailbox:
    """aiosmtpd's handler: every message, with its envelope recipients and the time it arrived."""

    def __init__(self):
        self.messages, self.lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((time.time(), list(envelope.rcpt_tos),
                                  message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def all(self):
        with self.lock:
            return list(self.messages)


class Hooks(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        timestamp = self.headers.get("X-Rollcall-Timestamp", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, self.headers.get("X-Rollcall-Signature", ""))
        Hooks.received.append((signed, json.loads(body)))
        self.send_response(200 if signed else 401)
        self.end_headers()

    def log_message(self, *arguments):
        pass


def enumerated_starts(now):
    """Fay's three sessions: three days ago, two days ago, and one that began 9 hours ago."""
    return enumerate([now - timedelta(days=3), now - timedelta(days=2), now - timedelta(hours=9)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    arguments = parser.parse_args()
    binaries = os.path.abspath(arguments.bin)
    rollcall, rollcall_hub = os.path.join(binaries, "rollcall"), os.path.join(binaries, "rollcall-hub")
    check(os.path.exists("/usr/bin/msmtp"), "msmtp is installed (tools/install-deps.sh)")
    work = tempfile.mkdtemp(prefix="rollcall-notify-")
    hub = daemon = smtp = hooks = None
    try:
        mailbox = Mailbox()
        smtp = Controller(mailbox, hostname="127.0.0.1", port=doorlab.free_port())
        smtp.start()
        hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
        threading.Thread(target=hooks.serve_forever, daemon=True).start()
        config = os.path.join(work, "msmtprc")
        with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), "w"):
            pass
        secret = os.path.join(work, "webhook-secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(SECRET + "\n")
        sendmail = (f"/usr/bin/msmtp -C {config} --host=127.0.0.1 --port={smtp.port} --auth=off --tls=off "
                    f"--from=attendance@school.example -t")
        db = os.path.join(work, "hub.sqlite")
        hub_arguments = ["--sendmail", sendmail, "--mail-from", "attendance@school.example",
                         "--webhook-url", f"http://127.0.0.1:{hooks.server_address[1]}/absences",
                         "--webhook-secret-file", secret, "--notify-scan-seconds", "2"]
        # Set up first with the messages off; they are turned on once Ben is in (a restart with the options).
        hub = doorlab.Hub(rollcall_hub, db, log=os.path.join(work, "hub.log")).start()

        run = lambda *args: subprocess.run(args, cwd=work, check=True, capture_output=True, text=True)  # noqa: E731
        key = json.loads(run(rollcall, "badge", "keygen", "--out", "badge.key", "--kid", "school-1").stdout)
        run(rollcall, "badge", "issue", "--key", "badge.key", "--kid", "school-1", "--subject", "p-ben",
            "--role", "student", "--expires", (datetime.now(timezone.utc) + timedelta(days=300)).strftime("%Y-%m-%d"),
            "--png", "ben-badge.png")
        hub.admin("POST", "/rooms", {"id": "B12", "timezone": "UTC"})
        hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
        hub.admin("POST", "/badge-keys", {"kid": key["kid"], "public_key": key["public_key"]})
        people = {"p-ada": "Ada Achebe", "p-ben": "Ben Bauer", "p-cy": "Cy Castro", "p-dee": "Dee Diallo",
                  "p-eve": "Eve Evans", "p-fay": "Fay Fischer"}
        for person, name in people.items():
            hub.admin("POST", "/people", {"id": person, "name": name, "role": "student", "groups": ["7B"],
                                          "templates": []})
        guardians = {"p-ada": ["ada.mother@example.org", "ada.father@example.org"],
                     "p-ben": ["ben.parent@example.org"], "p-cy": ["cy.parent@example.org"],
                     "p-eve": ["eve.parent@example.org"], "p-fay": ["fay.parent@example.org"]}
        for person, addresses in guardians.items():
            hub.admin("PUT", f"/people/{person}/contacts", {"guardians": addresses})
        check(hub.admin("GET", "/people/p-ada/contacts") == {"guardians": guardians["p-ada"]},
              "the guardians' addresses read back")
        now = datetime.now(timezone.utc)
        hub.admin("POST", "/sessions", {"room": "B12", "sessions": [
            {"id": "s-maths", "group": "7B", "start": doorlab.stamp(now - timedelta(minutes=25)),
             "end": doorlab.stamp(now + timedelta(minutes=20)), "roster": ["p-ada", "p-ben", "p-cy", "p-dee"]},
            {"id": "s-art", "group": "7B", "start": doorlab.stamp(now - timedelta(minutes=22)),
             "end": doorlab.stamp(now + timedelta(minutes=23)), "roster": ["p-ada"]},
            {"id": "s-music", "group": "8A", "start": doorlab.stamp(now - timedelta(minutes=10)),
             "end": doorlab.stamp(now + timedelta(minutes=35)), "roster": ["p-eve"]}]
            + [{"id": f"s-fay-{index}", "group": "7C", "start": doorlab.stamp(start),
                "end": doorlab.stamp(start + timedelta(minutes=90)), "roster": ["p-fay"]}
               for index, start in enumerated_starts(now)]})
        for username, name, email in [("hopper", "Grace Hopper", "hopper@school.example"),
                                      ("turing", "Alan Turing", None)]:
            password = os.path.join(work, "password")
            with open(password, "w") as handle:
                handle.write("correct horse battery\n")
            run(rollcall_hub, "account", "add", username, "--role", "teacher", "--name", name, "--db", db,
                "--password-file", password, *(["--email", email] if email else []))
        hub.admin("PUT", "/sessions/s-fay-2/teachers", {"teachers": ["hopper", "turing"]})
        excuse = urllib.request.Request(
            hub.url + "/api/v1/staff/sessions/s-maths/excuses", method="PUT",
            data=json.dumps({"person": "p-cy", "reason": "dentist"}).encode(),
            headers={"Authorization": f"Bearer {doorlab.ADMIN}", "Content-Type": "application/json"})
        check(urllib.request.urlopen(excuse, timeout=10).status == 200, "staff excuse Cy")

        # Ben checks in at the door with his badge (a real daemon, synced first, then shown the badge).
        daemon = doorlab.Daemon(rollcall, work, hub.url, camera="/dev/rollcall-camera-absent", refresh_seconds=2)
        daemon.start()
        check(daemon.wait_ready(), "the daemon is up", daemon.log()[-5:])
        check(bool(doorlab.wait_for(lambda: (s := daemon.status()) and s["sync"]["online"], 30)), "the door synced")
        daemon.stop()
        daemon.write_config(replay=os.path.join(work, "ben-badge.png"))
        daemon.start()
        checked = doorlab.wait_for(lambda: [c for c in hub.admin("GET", "/sessions/s-maths/checkins")
                                            if c["person"] == "p-ben"], 30)
        check(bool(checked), "Ben is checked in at the door", daemon.log()[-5:])
        hub.stop()
        hub.arguments = hub_arguments
        started = time.time()
        hub.start()

        # The messages: wait for Ada's two, then several more scans for anything that should not come.
        doorlab.wait_for(lambda: len(mailbox.all()) >= 3 and len(Hooks.received) >= 2, 30)
        time.sleep(8)
        mails = mailbox.all()
        recipients = sorted(r for _, rcpts, _ in mails for r in rcpts)
        check(recipients == sorted(guardians["p-ada"] + ["hopper@school.example"]),
              "Ada's two guardians get one email each, Fay's teacher one; nobody else gets any", recipients)
        alerts = [(arrived, message) for arrived, _, message in mails if message["To"] == "hopper@school.example"]
        alert = alerts[0][1]
        alert_text = alert.get_content()
        others = [name for person, name in people.items() if person != "p-fay" and name.split()[0] in alert_text]
        check(alert["Subject"] == "Fay Fischer: 3 absences in a row" and alert_text.count("- 7C, room B12") == 3
              and "Dear Grace Hopper" in alert_text and not others and "p-" not in alert_text,
              "the pastoral alert names Fay and her three sessions, and no one else", alert["Subject"])
        print(f"notify e2e: the pastoral alert arrived {alerts[0][0] - started:.1f} s after the hub started", flush=True)
        mails = [(arrived, rcpts, message) for arrived, rcpts, message in mails
                 if message["To"] != "hopper@school.example"]
        for arrived, _, message in mails:
            text = message.get_content()
            others = [name for person, name in people.items() if person != "p-ada" and name.split()[0] in text]
            check("Ada Achebe" in message["Subject"] and "Ada Achebe" in text and "7B" in text
                  and "room B12" in text and not others and "p-" not in text,
                  f"the email to {message['To']} names Ada, her group and room, and no one else",
                  message["Subject"])
            check(message["From"] == "attendance@school.example", "it comes from the school's address")
        delay = max(arrived for arrived, _, _ in mails) - started
        print(f"notify e2e: emails arrived {delay:.1f} s after the hub could know (Maths began 25 min before, "
              f"the rule is 20 min, the service level 30 min)", flush=True)
        hooked = sorted(body["person"] for signed, body in Hooks.received if signed)
        check(hooked == ["p-ada", "p-dee"] and all(signed for signed, _ in Hooks.received),
              "the webhook gets one signed message for Ada and one for Dee", Hooks.received)
        dee = next(body for _, body in Hooks.received if body["person"] == "p-dee")
        check(dee["session"] == "s-maths" and dee["name"] == "Dee Diallo" and dee["room"] == "B12",
              "the webhook's message names the student and the session", dee)

        # Restarted on the same database: nothing twice.
        hub.stop()
        hub.start()
        time.sleep(7)
        check(len(mailbox.all()) == 3 and len(Hooks.received) == 2, "after a restart nothing is sent again",
              (len(mailbox.all()), len(Hooks.received)))
        outbox = hub.admin("GET", "/notifications")
        check(len(outbox) == 5 and all(m["sent_at"] and not m["failed"] for m in outbox),
              "the outbox lists the five messages as sent", outbox)
        print("notify e2e: passed")
    finally:
        if daemon:
            daemon.stop()
        if hub:
            hub.stop()
        if smtp:
            smtp.stop()
        if hooks:
            hooks.shutdown()
        if FAILURES:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
