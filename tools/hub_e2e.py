#!/usr/bin/env python3
"""The hub's reports against a real `rollcall-hub serve` process (issue 7's test).

    tools/hub_e2e.py [--bin DIR] [--screenshots DIR]

A term of Maths for group 7B (every Monday from 5 October to 16 November 2026, 08:00-08:45 in
Europe/Berlin, across the end of summer time) and a one-off trip on 20 November are imported from a
timetable CSV. The events come from a device: the scenario video replayed by `rollcall replay` into an
outbox and pushed by `rollcall sync` (the student checks in 12 minutes late on 16 November, the volunteer
signs in and out), and further device batches through the device API (every other check-in, and two
volunteer visits, one across midnight and one across Sunday midnight). Staff excuse one absence and set
flags. Then every report is checked against figures worked out by hand below: the session report (JSON
and CSV), the summary, the group report with the pastoral signal, volunteer hours per week, the public
pseudonymous report, and the group page with its SVG chart in headless chromium.
"""
import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "signage"))
import doorlab  # noqa: E402

STAFF = "staff-token-e2e-0123456789"
PUBLIC = "public-token-e2e-0123456789"
MONDAYS = ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
# 08:00 in Berlin: summer time (UTC+2) until 25 October, then UTC+1.
START_UTC = {day: ("06" if day < "2026-10-26" else "07") + ":00:00Z" for day in MONDAYS}
TRIP = "trip-7b-2026-11-20-0900"
FAILURES = []


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)) if detail and not condition else ''}",
          flush=True)
    if not condition:
        FAILURES.append(what)
        if detail:
            print(f"     {detail}")


def session_id(day):
    return f"maths-7b-{day}-0800"


class Client:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, token, body=None, raw=False):
        data = body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, (text if raw else json.loads(text or "null"))
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def checkin(person, session, at, minutes_late=0):
    event = {"id": str(uuid.uuid4()), "kind": "checkin", "person": person, "session": session, "at": at,
             "status": "late" if minutes_late else "present", "minutes_late": minutes_late, "method": "face",
             "source": "signage:door-b12"}
    return event


def visit(person, entry, exit_, seconds):
    return [
        {"id": str(uuid.uuid4()), "kind": "entry", "person": person, "at": entry, "method": "qr",
         "source": "signage:door-b12"},
        {"id": str(uuid.uuid4()), "kind": "exit", "person": person, "at": exit_, "entry_at": entry,
         "duration_seconds": seconds, "method": "qr", "source": "signage:door-b12"},
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    parser.add_argument("--screenshots", default=None)
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rollcall-hub-e2e-")
    os.environ["ROLLCALL_BIN"] = options.bin
    scenario = doorlab.build_scenario(REPO, os.path.join(work, "scenario"))
    # The term lies in the autumn of 2026: the hub takes events up to ten years old here (30 days by default).
    hub = doorlab.Hub(os.path.join(options.bin, "rollcall-hub"), os.path.join(work, "hub.sqlite"),
                      arguments=["--max-event-age-days", "3650"]).start()
    client = Client(hub.url)
    try:
        run(options, work, scenario, hub, client)
    finally:
        hub.stop()
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"hub_e2e: {len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("hub_e2e: all checks passed")


def run(options, work, scenario, hub, client):
    # People, rooms, tokens, timetable.
    hub.admin("POST", "/rooms", {"id": "B12", "timezone": "Europe/Berlin"})
    hub.admin("POST", "/devices", {"id": "door-b12", "room": "B12", "token": doorlab.TOKEN})
    student = json.load(open(os.path.join(scenario, "gallery.json")))["people"][0]
    student["groups"] = ["7B"]
    hub.admin("POST", "/people", dict(student, consent=doorlab.CONSENT))
    for person, name in [("p-2", "Grace Hopper"), ("p-3", "Alan Turing"), ("p-4", "Katherine Johnson")]:
        hub.admin("POST", "/people", {"id": person, "name": name, "role": "student", "groups": ["7B"],
                                      "templates": []})
    hub.admin("POST", "/people", {"id": "v-ada", "name": "Ada", "role": "volunteer", "groups": [],
                                  "templates": []})
    hub.admin("PUT", "/rooms/B12/access", {"people": ["v-ada"]})
    for token, scope in [(STAFF, "staff"), (PUBLIC, "public")]:
        hub.admin("POST", "/tokens", {"token": token, "scope": scope, "label": scope})
    keys = json.load(open(os.path.join(scenario, "badge-keys.json")))
    for kid, public_key in keys["keys"].items():
        hub.admin("POST", "/badge-keys", {"kid": kid, "public_key": public_key})
    timetable = ("class,group,room,date,weekday,first,last,start,end\n"
                 "Maths,7B,B12,,Mon,2026-10-05,2026-11-16,08:00,08:45\n"
                 "Trip,7B,B12,2026-11-20,,,,09:00,12:00\n"
                 "Maths,7B,Z9,,Mon,2026-10-05,2026-11-16,08:00,08:45\n")
    status, answer = client.call("POST", "/api/v1/admin/timetable", doorlab.ADMIN, timetable)
    check(status == 200 and answer["sessions"] == 8 and [p["line"] for p in answer["problems"]] == [4],
          "timetable: 7 Mondays and the trip imported, the line naming an unknown room refused", answer)
    roster = ["p-2", "p-3", "p-4", "p-obama"]

    # The device: the scenario replayed on 16 November, 12 minutes into Maths, then synced.
    sessions = {"room": "B12", "timezone": "Europe/Berlin",
                "policy": json.load(open(os.path.join(scenario, "sessions.json")))["policy"],
                "sessions": [{"id": session_id("2026-11-16"), "group": "7B", "start": "2026-11-16T07:00:00Z",
                              "end": "2026-11-16T07:45:00Z", "roster": roster}]}
    with open(os.path.join(work, "sessions.json"), "w") as handle:
        json.dump(sessions, handle)
    outbox = os.path.join(work, "outbox.sqlite")
    replay = subprocess.run(
        [os.path.join(options.bin, "rollcall"), "replay", os.path.join(scenario, "scenario.avi"),
         "--gallery", os.path.join(scenario, "gallery.json"), "--sessions", os.path.join(work, "sessions.json"),
         "--badge-keys", os.path.join(scenario, "badge-keys.json"), "--start", "2026-11-16T07:12:00Z",
         "--outbox", outbox, "--device-id", "door-b12", "--json"], capture_output=True, text=True)
    kinds = [json.loads(line)["kind"] for line in replay.stdout.splitlines() if line.startswith("{")]
    check(replay.returncode == 0 and kinds.count("checkin") == 1 and "entry" in kinds and "exit" in kinds,
          "the device replays the scenario: a check-in, an entry and an exit committed", replay.stderr[-400:])
    sync = subprocess.run(
        [os.path.join(options.bin, "rollcall"), "sync", "--hub", hub.url, "--token", doorlab.TOKEN,
         "--device-id", "door-b12", "--outbox", outbox, "--seconds", "30"], capture_output=True, text=True)
    check(sync.returncode == 0 and "synced 3, pending 0, rejected 0" in sync.stdout,
          "rollcall sync pushes the outbox, nothing refused", sync.stdout + sync.stderr)

    # Every other event, as device batches.
    events = []
    for index, day in enumerate(MONDAYS):
        start = f"{day}T{START_UTC[day]}"
        at = lambda minutes: f"{day}T{int(START_UTC[day][:2]):02d}:{minutes:02d}:00Z"  # noqa: E731
        sid = session_id(day)
        # p-2: late 7 min on 12 Oct, 20 min on 2 Nov, else on time.
        late = {"2026-10-12": 7, "2026-11-02": 20}.get(day, 0)
        events.append(checkin("p-2", sid, at(late or 1), late))
        # p-3: on time until 2 November, then absent.
        if day <= "2026-11-02":
            events.append(checkin("p-3", sid, at(2)))
        # p-4: absent (excused) on 5 October, else on time.
        if day != "2026-10-05":
            events.append(checkin("p-4", sid, at(3)))
        # p-obama: on time until 9 November (16 November came from the replay).
        if day <= "2026-11-09":
            events.append(checkin("p-obama", sid, at(0)))
        del start
    events.append(checkin("p-2", TRIP, "2026-11-20T08:01:00Z"))
    events += visit("v-ada", "2026-11-18T22:30:00Z", "2026-11-19T01:15:00Z", 9900)
    events += visit("v-ada", "2026-11-15T22:00:00Z", "2026-11-16T00:30:00Z", 9000)
    status, answer = client.call("POST", "/api/v1/device/events", doorlab.TOKEN, {"events": events})
    check(status == 200 and len(answer["accepted"]) == len(events) and not answer["rejected"],
          f"the device's other {len(events)} events are accepted", answer)
    check(client.call("PUT", f"/api/v1/staff/sessions/{session_id('2026-10-05')}/excuses", STAFF,
                      {"person": "p-4", "reason": "dentist"})[0] == 200, "staff excuse p-4 on 5 October")
    last = session_id("2026-11-16")
    for person, flag in [("p-2", "LEFT_EARLY"), ("p-3", "ABSENT")]:
        check(client.call("PUT", f"/api/v1/staff/sessions/{last}/flags", STAFF,
                          {"person": person, "flag": flag})[0] == 200, f"staff flag {person} {flag}")

    # The session of 16 November.
    status, report = client.call("GET", f"/api/v1/reports/sessions/{last}", STAFF)
    lines = {line["person"]: line for line in report["lines"]}
    check(report["status"] == "closed" and [lines[p]["outcome"] for p in roster] == ["present", "absent",
                                                                                   "present", "late"],
          "16 November: p-2 present, p-3 absent at close, p-4 present, the replayed student late", report)
    check(lines["p-obama"].get("minutes_late") == 12 and lines["p-obama"].get("method") == "face",
          "the replayed check-in is 12 minutes late, by face", lines["p-obama"])
    check(lines["p-2"]["flags"] == ["LEFT_EARLY"] and lines["p-3"]["flags"] == ["ABSENT"], "flags in the report")
    status, text = client.call("GET", f"/api/v1/reports/sessions/{last}?format=csv", STAFF, raw=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    check([row["outcome"] for row in rows] == ["present", "absent", "present", "late"]
          and rows[3]["minutes_late"] == "12" and rows[0]["flags"] == "LEFT_EARLY", "the same as CSV", text)
    status, text = client.call("GET", f"/api/v1/reports/sessions/{last}/summary", STAFF, raw=True)
    check(report.get("class_name") == "Maths", "the session keeps its class from the timetable", report)
    check(text.strip() == "Maths 7B, 2026-11-16 07:00–07:45 UTC (room B12): 3 of 4 came, 1 late (on average 12 min). "
          "Absent: Alan Turing. Flags: Grace Hopper (left early); Alan Turing (absent).",
          "the written summary", text)
    status, first = client.call("GET", f"/api/v1/reports/sessions/{session_id('2026-10-05')}", STAFF)
    check([line["outcome"] for line in first["lines"]] == ["present", "present", "excused", "present"]
          and first["lines"][2]["excuse"] == "dentist", "5 October: p-4 excused with the reason", first)

    # The group over the term.
    span = "from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z"
    status, group = client.call("GET", f"/api/v1/reports/groups/7B?{span}", STAFF)
    people = {person["person"]: person for person in group["people"]}
    expected = {
        # sessions, present, late, absent, excused, attendance, punctuality, average late, in a row, pastoral
        "p-2": (8, 6, 2, 0, 0, 1.0, 0.75, 13.5, 0, False),
        "p-3": (8, 5, 0, 3, 0, 0.625, 1.0, None, 3, True),
        "p-4": (8, 6, 0, 1, 1, 6 / 7, 1.0, None, 1, False),
        "p-obama": (8, 6, 1, 1, 0, 7 / 8, 6 / 7, 12.0, 1, False),
    }
    for person, values in expected.items():
        line = people.get(person, {})
        got = tuple(line.get(key) for key in ["sessions", "present", "late", "absent", "excused", "attendance",
                                               "punctuality", "average_minutes_late", "missed_in_a_row",
                                               "pastoral"])
        same = all(abs(a - b) < 1e-9 if isinstance(a, float) and isinstance(b, float) else a == b
                   for a, b in zip(got, values))
        check(same, f"group 7B, {person}: {values}", got)
    check([round(point["attendance"], 4) for point in group["sessions"]]
          == [round(x, 4) for x in [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.75, 0.25]],
          "group 7B: attendance per session (5 October counts p-4 as excused)",
          [point["attendance"] for point in group["sessions"]])

    # Volunteer hours.
    status, hours = client.call("GET", "/api/v1/reports/volunteers?from=2026-11-01T00:00:00Z"
                                       "&to=2026-12-01T00:00:00Z", STAFF)
    weeks = [(week["week"], week["hours"], week["visits"]) for week in hours["weeks"]]
    check(weeks == [("2026-W46", 1.0, 1), ("2026-W47", 4.25, 3)],
          "volunteer hours: across Sunday midnight split (1 h + 1.5 h), across midnight whole (2.75 h), "
          "and the replayed 3 s visit", weeks)

    # The public report: pseudonyms only.
    status, public = client.call("GET", f"/api/v1/public/sessions/{last}", PUBLIC)
    text = json.dumps(public)
    check(status == 200 and all(line["subject"].startswith("anon-") for line in public["lines"])
          and not any(secret in text for secret in ["p-2", "p-obama", "Grace", "Obama", "dentist"]),
          "the public report has pseudonyms and outcomes, no ids or names", text[:200])
    check(client.call("GET", f"/api/v1/public/sessions/{last}", STAFF)[0] == 403,
          "a staff token cannot read the public API (its own scope)")

    # The group page in a real browser, signed in to the web app (the page takes no token).
    import check_page
    secret = os.path.join(os.path.dirname(hub.db), "secretary-password")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        handle.write("secretary-password-0123\n")
    made = subprocess.run([hub.binary, "account", "add", "office", "--role", "secretary", "--name", "Sam Office",
                           "--password-file", secret, "--db", hub.db], capture_output=True, text=True)
    check(made.returncode == 0, "a secretary's web account from rollcall-hub account add", made.stderr.strip())
    browser = check_page.open_browser(1280, 900)
    try:
        browser.get(f"{hub.url}/reports/groups/7B?{span}&token={STAFF}")
        check("/sign-in" in browser.current_url, "the group page with a token in its address asks to sign in",
              browser.current_url)
        browser.find_element("id", "username").send_keys("office")
        browser.find_element("id", "password").send_keys("secretary-password-0123")
        browser.find_element("css selector", "form.card button[type=submit]").click()
        check(doorlab.wait_for(lambda: "/reports/groups/7B" in browser.current_url, 10),
              "signed in, the browser is back on the group page", browser.current_url)
        points = browser.find_elements("css selector", "svg#participation circle.point")
        pastoral = [row.text for row in browser.find_elements("css selector", "tr.pastoral")]
        check(len(points) == 8, "the group page's chart has a point per closed session", len(points))
        check(len(pastoral) == 1 and "Alan Turing" in pastoral[0], "the pastoral case is highlighted", pastoral)
        fits = browser.execute_script("var s = document.getElementById('participation').getBoundingClientRect();"
                                      "return s.width > 600 && s.height > 200 && s.right <= window.innerWidth")
        check(fits, "the chart is drawn at its size, inside the window")
        if options.screenshots:
            os.makedirs(options.screenshots, exist_ok=True)
            check_page.screenshot(browser, os.path.join(options.screenshots, "group-7b.png"))
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
