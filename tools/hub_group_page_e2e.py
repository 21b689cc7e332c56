#!/usr/bin/env python3
"""The hub's group page in a real browser (issue 7's browser check): its SVG chart and the pastoral case.

    tools/hub_group_page_e2e.py [--bin DIR] [--screenshots DIR]

A real `rollcall-hub serve` with the term of Tests/RollcallCLITests/HubReportsE2ETests.swift (every
Monday from 5 October to 16 November 2026 for group 7B, and a trip on 20 November, from a timetable CSV;
the check-ins through the device API: p-2 twice late, p-3 absent from 9 November on, p-4 excused once,
p-obama late on 16 November), a secretary's web account from `rollcall-hub account add`, and the group page
in headless chromium: it asks a browser with a token in its address to sign in, then shows a point per
closed session and highlights the pastoral case. The reports' figures themselves are checked by the Swift
test; this is what only a browser can check.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "signage"))
import doorlab  # noqa: E402

STAFF = "staff-token-e2e-0123456789"
MONDAYS = ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
# 08:00 in Berlin: summer time (UTC+2) until 25 October, then UTC+1.
HOUR = {day: 6 if day < "2026-10-26" else 7 for day in MONDAYS}
TRIP = "trip-7b-2026-11-20-0900"
FAILURES = []


def check(condition, what, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'} {what}{(': ' + str(detail)) if detail and not condition else ''}",
          flush=True)
    if not condition:
        FAILURES.append(what)


def call(url, token, method, body):
    """One request with a bearer token; its JSON answer (raises on anything but 2xx)."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def checkin(person, session, at, minutes_late=0):
    return {"id": str(uuid.uuid4()), "kind": "checkin", "person": person, "session": session, "at": at,
            "status": "late" if minutes_late else "present", "minutes_late": minutes_late, "method": "face",
            "source": f"signage:{doorlab.DEVICE}"}


def term(hub):
    """The group, its term and its check-ins, through the admin, staff and device APIs."""
    hub.admin("POST", "/rooms", {"id": "B12", "timezone": "Europe/Berlin"})
    hub.admin("POST", "/devices", {"id": doorlab.DEVICE, "room": "B12", "token": doorlab.TOKEN})
    for person, name in [("p-2", "Grace Hopper"), ("p-3", "Alan Turing"), ("p-4", "Katherine Johnson"),
                         ("p-obama", "Barack Obama")]:
        hub.admin("POST", "/people", {"id": person, "name": name, "role": "student", "groups": ["7B"],
                                      "templates": []})
    hub.admin("POST", "/tokens", {"token": STAFF, "scope": "staff", "label": "staff"})
    call(hub.url + "/api/v1/admin/timetable", doorlab.ADMIN, "POST",
                    "class,group,room,date,weekday,first,last,start,end\n"
                    "Maths,7B,B12,,Mon,2026-10-05,2026-11-16,08:00,08:45\n"
                    "Trip,7B,B12,2026-11-20,,,,09:00,12:00\n")
    events = []
    for day in MONDAYS:
        at = lambda minutes: f"{day}T{HOUR[day]:02d}:{minutes:02d}:00Z"  # noqa: E731
        session = f"maths-7b-{day}-0800"
        late = {"2026-10-12": 7, "2026-11-02": 20}.get(day, 0)
        events.append(checkin("p-2", session, at(late or 1), late))
        if day <= "2026-11-02":
            events.append(checkin("p-3", session, at(2)))
        if day != "2026-10-05":
            events.append(checkin("p-4", session, at(3)))
        events.append(checkin("p-obama", session, at(12 if day == "2026-11-16" else 0),
                              12 if day == "2026-11-16" else 0))
    events.append(checkin("p-2", TRIP, "2026-11-20T08:01:00Z"))
    answer = call(hub.url + "/api/v1/device/events", doorlab.TOKEN, "POST", {"events": events})
    check(len(answer["accepted"]) == len(events) and not answer["rejected"], "the term's check-ins are accepted",
          answer)
    call(hub.url + "/api/v1/staff/sessions/maths-7b-2026-10-05-0800/excuses", STAFF, "PUT",
                    {"person": "p-4", "reason": "dentist"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "debug"))
    parser.add_argument("--screenshots", default=None)
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rollcall-group-page-")
    # The term lies in the autumn of 2026: the hub takes events up to ten years old here (30 days by default).
    hub = doorlab.Hub(os.path.join(options.bin, "rollcall-hub"), os.path.join(work, "hub.sqlite"),
                      arguments=["--max-event-age-days", "3650"]).start()
    try:
        term(hub)
        browse(options, work, hub)
    finally:
        hub.stop()
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"hub_group_page_e2e: {len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("hub_group_page_e2e: all checks passed")


def browse(options, work, hub):
    """The group page in a real browser, signed in to the web app (the page takes no token)."""
    import check_page
    secret = os.path.join(work, "secretary-password")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        handle.write("secretary-password-0123\n")
    made = subprocess.run([hub.binary, "account", "add", "office", "--role", "secretary", "--name", "Sam Office",
                           "--password-file", secret, "--db", hub.db], capture_output=True, text=True)
    check(made.returncode == 0, "a secretary's web account from rollcall-hub account add", made.stderr.strip())
    span = "from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z"
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
