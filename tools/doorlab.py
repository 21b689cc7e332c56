"""A door on one machine, for `make run` (tools/demo.py) and the end-to-end test (tools/e2e.py): a real
`rollcall-hub serve` on loopback with a fresh database, provisioned through its admin API from the scenario
(generated from the fixtures by tools/scenario.sh), and a real `rollcall run` daemon playing the scenario
video through its whole pipeline, syncing to that hub and serving the signage page.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

ADMIN = "doorlab-admin-token-0123456789abcdef"  # at least 32 characters, as the hub requires
TOKEN = "doorlab-device-token-0123456789"
DEVICE = "door-b12"
# What the tests record for the people they enroll: the hub stores templates only with consent on record.
CONSENT = {"state": "granted", "given_by": "guardian", "evidence": "test consent form 1"}
SESSION = "s-demo-7b"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Hub:
    """`rollcall-hub serve` on 127.0.0.1:port (fixed, so that it can be stopped and started again)."""

    def __init__(self, binary, db, port=None, arguments=(), log=None):
        self.binary, self.db, self.port = binary, db, port or free_port()
        self.arguments, self.log = list(arguments), log
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        # The admin token from a file only this user can read, as the hub requires (never on the command line).
        token_file = self.db + ".admin-token"
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(ADMIN + "\n")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--db", self.db, "--port", str(self.port), "--admin-token-file", token_file,
             *self.arguments],
            stdout=subprocess.PIPE, stderr=open(self.log, "a") if self.log else subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"the hub did not start: {line!r}")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/api/v1/admin" + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {ADMIN}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def provision(self, scenario_dir, now=None):
        """The room (with the scenario's policy), the device, the gallery, a session running now whose roster
        is the enrolled students, the volunteer, and the badge key."""
        now = now or datetime.now(timezone.utc)
        sessions = json.load(open(os.path.join(scenario_dir, "sessions.json")))
        manifest = json.load(open(os.path.join(scenario_dir, "manifest.json")))
        self.admin("POST", "/rooms", {"id": sessions["room"], "timezone": "UTC", "policy": sessions.get("policy")})
        self.admin("POST", "/devices", {"id": DEVICE, "room": sessions["room"], "token": TOKEN})
        gallery = json.load(open(os.path.join(scenario_dir, "gallery.json")))
        for person in gallery["people"]:
            self.admin("POST", "/people", dict(person, consent=CONSENT))
        volunteers = sorted({a["person"] for a in manifest["appearances"]
                             if a["kind"] == "badge" and "bad signature" not in a["note"]})
        for volunteer in volunteers:
            name = volunteer.removeprefix("v-").capitalize()
            self.admin("POST", "/people", {"id": volunteer, "name": name, "role": "volunteer", "groups": [],
                                           "templates": []})
        # The room lets the volunteers in: the hub refuses entries and exits of anyone it does not.
        self.admin("PUT", f"/rooms/{sessions['room']}/access", {"people": volunteers})
        students = [p["id"] for p in gallery["people"] if p["role"] == "student"]
        self.admin("POST", "/sessions", {"room": sessions["room"], "sessions": [{
            "id": SESSION, "group": "7B", "start": stamp(now - timedelta(minutes=2)),
            "end": stamp(now + timedelta(minutes=45)), "roster": students}]})
        keys = json.load(open(os.path.join(scenario_dir, "badge-keys.json")))
        for kid, public_key in keys["keys"].items():
            self.admin("POST", "/badge-keys", {"kid": kid, "public_key": public_key})
        names = [p["name"] for p in gallery["people"]]
        return {"room": sessions["room"], "students": students, "volunteers": volunteers, "names": names}

    def get(self, path):
        """A GET with the admin token (which every staff endpoint takes)."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {ADMIN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def checkins(self, session=SESSION):
        return self.admin("GET", f"/sessions/{session}/checkins")

    def visits(self, person):
        return self.admin("GET", f"/people/{person}/visits")

    def received_ids(self, device=DEVICE):
        """The ids of every event the hub stored from `device`, one per stored row (a duplicate would show
        twice), through `GET /api/v1/admin/devices/ID/events`, page by page."""
        ids, after = [], None
        while True:
            page = self.admin("GET", f"/devices/{device}/events?limit=10000"
                              + (f"&after={urllib.parse.quote(after)}" if after else ""))
            ids += [event["id"] for event in page["events"]]
            after = page.get("next")
            if not after:
                return ids


def outbox_events(binary, outbox):
    """The events committed to a door's outbox, with their delivery state: `rollcall outbox list --json`
    (the daemon is best stopped first: the command opens the outbox as the daemon does)."""
    result = subprocess.run([binary, "outbox", "list", "--json", "--outbox", outbox], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"rollcall outbox list: {result.stderr.strip()}")
    return json.loads(result.stdout)["events"]


class Daemon:
    """`rollcall run --config` with its log lines collected (and echoed with `echo=True`)."""

    def __init__(self, binary, work, hub_url, replay=None, camera=None, port=None, refresh_seconds=2,
                 echo=False, notify_socket=None, log_level="info"):
        self.binary, self.work, self.echo = binary, work, echo
        self.port = port or free_port()
        self.config = os.path.join(work, "rollcall.toml")
        self.token_file = os.path.join(work, "hub-token")
        with open(self.token_file, "w") as handle:
            handle.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o600)
        self.hub_url, self.refresh_seconds, self.log_level = hub_url, refresh_seconds, log_level
        self.write_config(replay=replay, camera=camera)
        self.notify_socket = notify_socket
        self.lines, self.process = [], None
        self._lock = threading.Lock()

    def write_config(self, replay=None, camera=None, presentation_check=True):
        camera_lines = [f'device = "{camera}"'] if camera else []
        if replay:
            camera_lines.append(f'replay = "{replay}"')
        text = "\n".join([
            "[device]", f'id = "{DEVICE}"', f'data_dir = "{os.path.join(self.work, "data")}"', "",
            "[camera]", *camera_lines, "",
            "[recognition]", f"presentation_check = {'true' if presentation_check else 'false'}", "",
            "[hub]", f'url = "{self.hub_url}"', f'token_file = "{self.token_file}"',
            f"refresh_seconds = {self.refresh_seconds}", "",
            "[signage]", f"port = {self.port}", "",
            "[log]", f'level = "{self.log_level}"', ""])
        with open(self.config, "w") as handle:
            handle.write(text)

    @property
    def page(self):
        return f"http://127.0.0.1:{self.port}/"

    def start(self):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if self.notify_socket:
            env["NOTIFY_SOCKET"] = self.notify_socket
            env["WATCHDOG_USEC"] = "4000000"
        self.process = subprocess.Popen([self.binary, "run", "--config", self.config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.process.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
            if self.echo:
                print("  daemon | " + line.rstrip("\n"), flush=True)

    def log(self):
        with self._lock:
            return list(self.lines)

    def status(self):
        try:
            with urllib.request.urlopen(self.page + "status", timeout=3) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError, TimeoutError):
            return None

    def get(self, path):
        with urllib.request.urlopen(self.page + path.lstrip("/"), timeout=5) as response:
            return response.status, response.read().decode()

    def wait_ready(self, timeout=120):
        return wait_for(lambda: self.status() is not None or self.process.poll() is not None, timeout) and \
            self.process.poll() is None

    def reload(self):
        self.process.send_signal(signal.SIGHUP)

    def stop(self, timeout=10):
        """SIGTERM; returns (exit status, seconds it took)."""
        if not self.process or self.process.poll() is not None:
            return (self.process.returncode if self.process else None), 0.0
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, time.monotonic() - began


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def build_scenario(repo, out, fps=None):
    """Generates the scenario video and enrolls its gallery (tools/scenario.sh without the replay);
    `fps` stamps the video at that rate (rollcall-scenario --fps)."""
    env = dict(os.environ)
    if fps:
        env["ROLLCALL_SCENARIO_FPS"] = str(fps)
    subprocess.run([os.path.join(repo, "tools", "scenario.sh"), out, "--json"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return out


def port_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
