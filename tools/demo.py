#!/usr/bin/env python3
"""`make run`: the daemon with an embedded hub on loopback.

    tools/demo.py [--bin DIR] [--keep]

With a camera at /dev/video0 the daemon captures from it and runs until Ctrl-C. Without one it plays the
scenario built from the fixtures (tools/scenario.sh): an enrolled student arrives, a stranger passes, a
volunteer signs in and out, a forged badge is refused. It prints the door's events as they happen, then the
hub's report for the session and the volunteer's visits, and the signage page's address; and the staff web
app's address with a teacher's sign-in made for the run. With --keep it goes on running (open the pages in a
browser) until Ctrl-C.
"""
import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doorlab  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    parser.add_argument("--keep", action="store_true", help="keep the daemon and hub running until Ctrl-C")
    parser.add_argument("--camera", default="/dev/video0")
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rollcall-demo-")
    os.environ["ROLLCALL_BIN"] = options.bin
    camera = options.camera if os.path.exists(options.camera) else None
    print("demo: building the scenario from the fixtures (tools/scenario.sh) ...", flush=True)
    scenario = doorlab.build_scenario(REPO, os.path.join(work, "scenario"))
    hub = doorlab.Hub(os.path.join(options.bin, "rollcall-hub"), os.path.join(work, "hub.sqlite")).start()
    daemon = None
    try:
        provisioned = hub.provision(scenario)
        print(f"demo: hub on {hub.url}: room {provisioned['room']}, session {doorlab.SESSION} (7B, running now), "
              f"students {', '.join(provisioned['students'])}, volunteers {', '.join(provisioned['volunteers'])}")
        # The staff web app: a teacher of the demo's session, with a password made for this run only.
        password = secrets.token_urlsafe(12)
        secret = os.path.join(work, "teacher-password")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(password + "\n")
        subprocess.run([os.path.join(options.bin, "rollcall-hub"), "account", "add", "teacher", "--role", "teacher",
                        "--name", "Demo Teacher", "--password-file", secret, "--db", hub.db], check=True,
                       stdout=subprocess.DEVNULL)
        hub.admin("PUT", f"/sessions/{doorlab.SESSION}/teachers", {"teachers": ["teacher"]})
        print(f"demo: staff web app on {hub.url}/ : sign in as teacher, password {password} "
              f"(the live roll call: {hub.url}/live/sessions/{doorlab.SESSION})", flush=True)
        replay = None if camera else os.path.join(scenario, "scenario.avi")
        daemon = doorlab.Daemon(os.path.join(options.bin, "rollcall"), work, hub.url, replay=replay, camera=camera,
                                echo=True, port=8081 if doorlab.port_free(8081) else None)
        print(f"demo: rollcall run --config {daemon.config} "
              + (f"(camera {camera})" if camera else "(no camera at /dev/video0: playing the scenario video)"),
              flush=True)
        daemon.start()
        if not daemon.wait_ready():
            sys.exit("demo: the daemon did not start; its log is above")
        print(f"demo: signage page on {daemon.page}  (status: {daemon.page}status, metrics: {daemon.page}metrics)",
              flush=True)
        if camera or options.keep:
            print("demo: press Ctrl-C to stop", flush=True)
            try:
                while daemon.process.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        else:
            doorlab.wait_for(lambda: (daemon.status() or {}).get("camera", {}).get("state") == "ended", 120)
            doorlab.wait_for(lambda: (daemon.status() or {}).get("queue", {}).get("pending", 1) == 0, 30)
        report(hub, daemon, provisioned)
    finally:
        if daemon:
            code, seconds = daemon.stop()
            print(f"demo: daemon stopped (exit {code}) in {seconds:.1f} s")
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(hub, daemon, provisioned):
    print()
    session = hub.get(f"/api/v1/reports/sessions/{doorlab.SESSION}")
    print(f"hub: session {session['session']} ({session['group']}, {session['status']}):")
    for line in session["lines"]:
        late = f" {line['minutes_late']} min" if line.get("minutes_late") else ""
        when = f" at {line['checkin_time']} by {line['method']}" if line.get("checkin_time") else ""
        print(f"  {line['person']} ({line.get('name')}): {line['outcome']}{late}{when}")
    print("hub: volunteer visits:")
    for volunteer in provisioned["volunteers"]:
        for visit in hub.visits(volunteer):
            duration = visit.get("duration_seconds")
            print(f"  {volunteer}: signed in {visit['login_time']}, "
                  + (f"signed out {visit['logout_time']} ({duration:.0f} s)" if duration is not None else "still in"))
    status = daemon.status() or {}
    print(f"door: queue {status.get('queue', {}).get('pending')} waiting, hub "
          f"{'online' if status.get('sync', {}).get('online') else 'offline'}; signage page {daemon.page}")


if __name__ == "__main__":
    main()
