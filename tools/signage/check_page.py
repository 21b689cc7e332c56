#!/usr/bin/env python3
"""The signage page in a real headless browser (Debian's chromium and chromedriver, through selenium).

    tools/signage/check_page.py [--screenshots DIR]

Without a daemon: the page is taken from Sources/Signage/signage.html, opened as a file, and every
state is rendered through the page's own functions (window.rollcall.showState / showDecision): no class
now, a session, on time, late · 7 min, signed in, signed out · 4 h 12 min, badge not valid, not checked in,
offline with and without a queue, at 1280x720 and 800x480 (nothing may overflow the screen). One line per
check; exit status 1 on a failure. The functions below are also what tools/e2e.py drives the page with.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def open_browser(width=1280, height=720):
    """Headless chromium; fails (never skips) when chromium or chromedriver is missing."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"]:
        options.add_argument(argument)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.exists(driver) or not os.path.exists(options.binary_location):
        raise SystemExit("check_page: chromium and chromium-driver are needed (tools/install-deps.sh installs them)")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def text(driver, css):
    try:
        return driver.find_element("css selector", css).text
    except WebDriverException:
        return ""


def greeting(driver):
    return text(driver, "#greeting")


def offline_text(driver):
    return text(driver, "#offline")


def offline_hidden(driver):
    return driver.execute_script("return document.getElementById('offline').hidden")


def latencies(driver):
    return driver.execute_script("return window.rollcallLatencies || []")


def wait_for(driver, predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def wait_for_text(driver, css, expected, timeout):
    return wait_for(driver, lambda: expected in text(driver, css), timeout)


def screenshot(driver, path):
    driver.save_screenshot(path)


def page_html():
    with open(os.path.join(REPO, "Sources", "Signage", "signage.html"), encoding="utf-8") as page:
        return page.read()


CASES = [
    ("state", {"online": True, "queue": 0, "session": None, "room": "B12", "camera": "streaming"},
     "#idle", "no class in this room now"),
    ("state", {"online": True, "queue": 0, "room": "B12", "camera": "streaming",
               "session": {"id": "s-1", "group": "7B", "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:45:00Z"}},
     "#idle", "7B · "),
    ("decision", {"kind": "checkin", "name": "Ada", "status": "present"}, "#greeting", "Ada, you're checked in, on time"),
    ("decision", {"kind": "checkin", "name": "Ada", "status": "late", "minutes_late": 7}, "#greeting",
     "Ada, you're checked in, late · 7 min"),
    ("decision", {"kind": "checkin", "name": "Ada", "status": "late", "minutes_late": None}, "#greeting",
     "Ada, you're checked in, late"),
    ("decision", {"kind": "entry", "name": "Ada"}, "#greeting", "Ada, signed in"),
    ("decision", {"kind": "exit", "name": "Ada", "duration_seconds": 15120}, "#greeting", "Ada, signed out · 4 h 12 min"),
    ("decision", {"kind": "exit", "name": "Ada", "duration_seconds": 30}, "#greeting",
     "Ada, signed out · less than a minute"),
    ("decision", {"kind": "rejected_badge", "reason": "expired"}, "#greeting", "badge not valid: expired"),
    ("decision", {"kind": "rejected_badge", "reason": "bad_signature"}, "#greeting", "badge not valid: bad signature"),
    ("decision", {"kind": "rejected_badge", "reason": None}, "#greeting", "badge not valid"),
    ("decision", {"kind": "no_checkin", "name": "Ada", "reason": "no class in this room now"}, "#greeting",
     "Ada, not checked in: no class in this room now"),
    ("decision", {"kind": "refused_face", "name": None, "reason": None}, "#greeting",
     "Not recognised — please use your badge"),
    ("state", {"online": False, "queue": 3, "session": None, "room": "B12", "camera": "streaming"}, "#offline",
     "offline · 3 waiting"),
    ("state", {"online": False, "queue": 0, "session": None, "room": "B12", "camera": "streaming"}, "#offline",
     "offline"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshots", default=None)
    options = parser.parse_args()
    shots = options.screenshots or tempfile.mkdtemp(prefix="rollcall-page-")
    os.makedirs(shots, exist_ok=True)
    page = os.path.join(shots, "page.html")
    with open(page, "w") as handle:
        handle.write(page_html())
    failures = 0
    for width, height in [(1280, 720), (800, 480)]:
        driver = open_browser(width, height)
        try:
            driver.get("file://" + page)
            for number, (event, data, css, expected) in enumerate(CASES):
                data = dict(data)
                if event == "decision":
                    data.setdefault("committed_at_ms", int(time.time() * 1000))
                    driver.execute_script("window.rollcall.showDecision(arguments[0])", data)
                else:
                    driver.execute_script("window.rollcall.showState(arguments[0])", data)
                # Exact, so that a shorter text ("badge not valid") is not taken for the previous, longer one;
                # the session line only by its start (its times are the browser's local time).
                shown = wait_for(
                    driver, lambda: text(driver, css) == expected
                    or (expected.endswith(" ") and text(driver, css).startswith(expected)), 2)
                fits = driver.execute_script(
                    "var e = document.documentElement; return e.scrollWidth <= e.clientWidth && "
                    "e.scrollHeight <= e.clientHeight")
                ok = shown and fits
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {width}x{height} {event} {json.dumps(data)[:70]}: "
                      f"{text(driver, css)!r}{'' if fits else ' (overflows the screen)'}")
                screenshot(driver, os.path.join(shots, f"{width}x{height}-{number:02d}.png"))
            hidden = driver.execute_script(
                "window.rollcall.showState({online: true, queue: 0, session: null, room: 'B12'});"
                "return document.getElementById('offline').hidden")
            failures += not hidden
            print(f"{'ok  ' if hidden else 'FAIL'} {width}x{height} online again: the offline indicator is hidden")
        finally:
            driver.quit()
    print(f"check_page: {'all checks passed' if not failures else f'{failures} failed'}; screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
