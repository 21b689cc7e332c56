#!/usr/bin/env python3
"""Kills the device's sync with SIGKILL at random moments and checks that every committed event reaches
the hub exactly once (issue 5's chaos test), or times a drain of N events to a loopback hub.

    tools/chaos.py chaos [--kills N] [--bin DIR]      last line: committed=C delivered=D duplicates=0 lost=0 invented=0
    tools/chaos.py bench [--events N] [--bin DIR]     prints rollcall bench sync's JSON

A real `rollcall-hub serve` runs on loopback with a fresh database; the device side is
`rollcall bench sync` (commit events one by one, then drain them), started again and again and killed
once it has begun committing, after a random 0-1 s more, so kills land while committing and while syncing. Then `rollcall sync`
drains what is left, and the outbox (what was committed, `rollcall outbox list`) is compared with what the
hub lists from the door (what was delivered, `GET /api/v1/admin/devices/door-b12/events`). Exit status 1 when anything was lost, doubled or invented.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone

ADMIN = "chaos-admin-token-0123456789abcdef"  # at least 32 characters, as the hub requires
TOKEN = "chaos-device-token-0123456789"


def start_hub(binary, db):
    token_file = db + ".admin-token"  # only this user may read it, as the hub requires
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(ADMIN + "\n")
    hub = subprocess.Popen([binary, "serve", "--db", db, "--port", "0", "--admin-token-file", token_file],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = hub.stdout.readline()
    if "listening on" not in line:
        hub.kill()
        sys.exit(f"chaos: the hub did not start: {line!r}")
    return hub, line.strip().rsplit(" ", 1)[-1]


def admin(url, path, body):
    request = urllib.request.Request(url + "/api/v1/admin" + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def admin_get(url, path):
    request = urllib.request.Request(url + "/api/v1/admin" + path, headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def provision(url):
    admin(url, "/rooms", {"id": "B12", "timezone": "UTC"})
    admin(url, "/devices", {"id": "door-b12", "room": "B12", "token": TOKEN})
    for index in range(10):
        admin(url, "/people", {"id": f"p-{index}", "name": f"P{index}", "role": "student", "groups": [],
                               "templates": [{"encoding": [0.01] * 128}],
                               "consent": {"state": "granted", "given_by": "guardian", "evidence": "chaos test"}})
    now = datetime.now(timezone.utc)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    admin(url, "/sessions", {"room": "B12", "sessions": [{
        "id": "s-bench", "group": "7B", "start": stamp(now - timedelta(minutes=10)),
        "end": stamp(now + timedelta(hours=3)), "roster": [f"p-{i}" for i in range(10)]}]})


def device_args(bin_dir, url, outbox):
    return ["--hub", url, "--token", TOKEN, "--device-id", "door-b12", "--outbox", outbox]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["chaos", "bench"])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release"))
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()
    rollcall = os.path.join(options.bin, "rollcall")
    work = tempfile.mkdtemp(prefix="rollcall-chaos-")
    hub_db, outbox = os.path.join(work, "hub.sqlite"), os.path.join(work, "outbox.sqlite")
    hub, url = start_hub(os.path.join(options.bin, "rollcall-hub"), hub_db)
    try:
        provision(url)
        if options.mode == "bench":
            result = subprocess.run([rollcall, "bench", "sync", "--events", str(options.events), "--json"]
                                    + device_args(options.bin, url, outbox), capture_output=True, text=True)
            print(result.stdout.strip() or result.stderr.strip())
            return result.returncode
        rng = random.Random(options.seed)
        for kill in range(options.kills):
            device = subprocess.Popen([rollcall, "bench", "sync", "--events", "3000", "--progress"]
                                      + device_args(options.bin, url, outbox),
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            # Kill only once this run has begun committing (it says `committed 1`: a slow start under load
            # must not make every kill land before the first commit), then at a random moment of committing
            # or syncing.
            device.stdout.readline()
            time.sleep(rng.uniform(0.0, 1.0))
            device.send_signal(signal.SIGKILL)
            device.wait()
            print(f"chaos: kill {kill + 1}/{options.kills}", file=sys.stderr)
        drain = subprocess.run([rollcall, "sync", "--seconds", "120"] + device_args(options.bin, url, outbox),
                               capture_output=True, text=True)
        print(f"chaos: {drain.stdout.strip()} {drain.stderr.strip()}", file=sys.stderr)
        listed = subprocess.run([rollcall, "outbox", "list", "--json", "--outbox", outbox], capture_output=True,
                                text=True, check=True)
        committed = {event["id"] for event in json.loads(listed.stdout)["events"]}
        hub_rows, after = [], None
        while True:
            page = admin_get(url, "/devices/door-b12/events?limit=10000" + (f"&after={after}" if after else ""))
            hub_rows += [event["id"] for event in page["events"]]
            after = page.get("next")
            if not after:
                break
        delivered = set(hub_rows)
        duplicates = len(hub_rows) - len(delivered)
        lost, invented = len(committed - delivered), len(delivered - committed)
        print(f"committed={len(committed)} delivered={len(delivered)} duplicates={duplicates} "
              f"lost={lost} invented={invented}")
        return 0 if duplicates == lost == invented == 0 and committed else 1
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
