#!/usr/bin/env python3
"""The door as a technician runs it, under a real systemd: a Debian 12 guest booted in QEMU with systemd
as PID 1, the project installed into it with `make install`, checked step by step.

    python3 tools/systemd_guest.py [--bin .build/release] [--keep DIR]

1. The guest's root (cached, tools/systemd-guest/build-base.sh): debootstrap bookworm with systemd,
   udev, Debian's kernel (its initramfs made by initramfs-tools), chromium for the screen, and the
   Debian packages the installed binaries need at run time (read off their ELF dependencies with ldd
   and dpkg, not listed by hand).
2. On top: `make install DESTDIR=...` (binaries with the Swift runtime built in, models, the units,
   sysusers, the udev rule, the example configuration), a hub database provisioned here through the
   hub's admin API (the room, this door and its token, the scenario's gallery, a session starting in
   10 minutes, the badge key), the scenario video, and the test's own unit and script
   (tools/systemd-guest/technician.sh) with two test-only drop-ins: the units' denied system calls kill
   instead of returning EPERM (so none passes unseen), and the screen takes a headless screenshot.
3. That tree becomes an ext4 disk image; QEMU boots Debian's kernel from it (root=/dev/vda, TCG, no
   network but the guest's loopback), systemd starts the test unit, which runs the technician's steps,
   writes one line per step to a shared folder and powers the guest off.
Each step's line is printed with its time; exit status 1 if a step failed or is missing.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import doorlab  # noqa: E402

STEPS = ["camera-udev", "hub-start", "door-start", "status-line", "journal", "unplug", "reload", "watchdog",
         "door-stop", "screen", "hub-stop", "seccomp"]
# What the guest has beyond the binaries' own libraries: systemd as init, udev, kmod for vivid,
# Debian's kernel, procps, and chromium with a font for the screen.
GUEST_PACKAGES = ["systemd-sysv", "udev", "kmod", "linux-image-amd64", "procps", "chromium", "fonts-dejavu-core"]
BINARIES = ["rollcall", "rollcall-hub"]


def log(message):
    print(f"systemd-guest: {message}", flush=True)


def owners(paths):
    """{path: package} for the paths an installed Debian package ships (one dpkg-query for all)."""
    found = {}
    if not paths:
        return found
    result = subprocess.run(["dpkg-query", "-S"] + sorted(paths), capture_output=True, text=True)
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        if path in paths:
            found[path] = package.split(",")[0].split(":")[0].strip()
    return found


def runtime_packages(binaries):
    """The Debian packages that ship the shared libraries the binaries load (ldd, then dpkg -S)."""
    libraries, missing = {}, []
    for binary in binaries:
        output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
        for line in output.splitlines():
            name, arrow, rest = line.partition("=>")
            if not arrow:
                continue
            path = rest.split("(")[0].strip()
            if path == "not found":
                missing.append(f"{os.path.basename(binary)}: {name.strip()} not found")
            elif path:
                libraries[os.path.realpath(path)] = f"{os.path.basename(binary)}: {name.strip()}"
    swift = [what for path, what in libraries.items() if "/swift/" in path or "libswift" in what]
    if swift:
        raise SystemExit("systemd-guest: the binaries load the Swift runtime from the toolchain "
                         f"({', '.join(swift[:3])}): build them with `make build`, which links it in")
    # dpkg knows a library by the path its package ships: /usr/lib or, before the /usr merge, /lib.
    variants = {}
    for path in libraries:
        for variant in {path, path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)}:
            variants[variant] = path
    shipped = owners(set(variants))
    packages = {}
    for variant, package in shipped.items():
        packages[variants[variant]] = package
    missing += [f"{what} ({path}, in no Debian package)" for path, what in libraries.items() if path not in packages]
    if missing:
        raise SystemExit(f"systemd-guest: libraries no Debian package provides: {', '.join(missing)}")
    return sorted(set(packages.values()))


def provision_hub(binaries, work, scenario):
    """A hub database with the room, this door, the gallery, the volunteer, the badge key, and a
    session that starts in 10 minutes (its check-ins open 30 minutes before): made here, used there."""
    database = os.path.join(work, "hub.sqlite")
    hub = doorlab.Hub(os.path.join(binaries, "rollcall-hub"), database).start()
    try:
        hub.provision(scenario, now=datetime.now(timezone.utc) + timedelta(minutes=12))
    finally:
        hub.stop()
    return database


def stage(work, binaries, scenario, database, share):
    """The tree laid over the guest's root: `make install`, the hub's data, the test's unit and drop-ins."""
    root = os.path.join(work, "stage")
    os.makedirs(root)
    subprocess.run(["make", "-C", REPO, "install", f"DESTDIR={root}", "BIN_DIR=" + os.path.abspath(binaries)],
                   check=True, stdout=subprocess.DEVNULL)
    def put(path, text, mode=0o644):
        full = root + path
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write(text)
        os.chmod(full, mode)
    guest = os.path.join(HERE, "systemd-guest")
    put("/usr/local/lib/rollcall-test/technician.sh", open(os.path.join(guest, "technician.sh")).read(), 0o755)
    put("/etc/systemd/system/rollcall-guest-test.service", open(os.path.join(guest, "rollcall-guest-test.service")).read())
    os.makedirs(root + "/etc/systemd/system/multi-user.target.wants", exist_ok=True)
    os.symlink("/etc/systemd/system/rollcall-guest-test.service",
               root + "/etc/systemd/system/multi-user.target.wants/rollcall-guest-test.service")
    for unit in ["rollcall.service", "rollcall-hub.service"]:
        put(f"/etc/systemd/system/{unit}.d/test-seccomp.conf",
            "# Test only: a system call the filter denies kills the process (audited), instead of EPERM.\n"
            "[Service]\nSystemCallErrorNumber=kill\n")
    put("/etc/systemd/system/rollcall-screen.service.d/test-headless.conf",
        "# Test only: no display in the guest; the same user and unit sandbox take a headless screenshot.\n"
        "# Under emulation (TCG) Chromium often dies of SIGSEGV within a minute: always with its own sandbox,\n"
        "# about every other start without it (systemd/README.md). systemd restarts it, as the real unit's\n"
        "# Restart=always does on a door, until one start renders the page; the test counts the restarts.\n"
        "[Unit]\nStartLimitIntervalSec=0\n"
        "[Service]\nPAMName=\nTTYPath=\nStandardInput=null\nUtmpIdentifier=\nRestart=on-failure\nRestartSec=1\n"
        "ExecStart=\n"
        "ExecStart=/usr/bin/chromium --headless=new --disable-gpu --in-process-gpu --no-sandbox --no-first-run "
        "--user-data-dir=/var/lib/rollcall-screen/profile --hide-scrollbars --window-size=800,480 "
        "--screenshot=/var/lib/rollcall-screen/screen.png http://127.0.0.1:8081/\n")
    put("/etc/fstab", "/dev/vda / ext4 defaults 0 1\n")
    put("/etc/hostname", "door-b12\n")
    os.makedirs(root + "/var/lib/rollcall-hub", exist_ok=True)
    for file in glob.glob(database + "*"):  # with its -wal, if the hub left one; not the host's admin token
        if file.endswith(".admin-token"):
            continue
        shutil.copy(file, root + "/var/lib/rollcall-hub/" + os.path.basename(file))
    os.makedirs(root + "/var/lib/rollcall-test", exist_ok=True)
    shutil.copy(os.path.join(scenario, "scenario.avi"), root + "/var/lib/rollcall-test/scenario.avi")
    os.makedirs(root + "/mnt/out", exist_ok=True)
    with open(os.path.join(share, "hub-token"), "w") as handle:
        handle.write(doorlab.TOKEN + "\n")
    return root


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    parser.add_argument("--keep", help="copy the screenshot, the steps and the guest's journal here")
    parser.add_argument("--timeout", type=int, default=1500, help="seconds the guest may run")
    # "max": every feature TCG emulates (the door's release binaries use AVX), but protection keys
    # (PKU): the screen's Chromium, which uses them when offered, died of SIGSEGV with them even
    # without its own sandbox (systemd/README.md, "Under a real systemd").
    parser.add_argument("--cpu", default="max,-pku", help="QEMU -cpu for the guest (default: %(default)s)")
    options = parser.parse_args()
    started = time.monotonic()
    binaries = [os.path.join(options.bin, name) for name in BINARIES]
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"systemd-guest: {binary} is missing: make build")
    packages = runtime_packages(binaries)
    log(f"the binaries load libraries from {len(packages)} Debian packages (with what those load in turn)")
    work = tempfile.mkdtemp(prefix="rollcall-guest-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    try:
        t = time.monotonic()
        base = subprocess.run([os.path.join(HERE, "systemd-guest", "build-base.sh")] + GUEST_PACKAGES + packages,
                              check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        log(f"guest root {base} ({time.monotonic() - t:.0f} s)")
        t = time.monotonic()
        # The emulated door analyses about one frame a second: at 30 fps it would see the student's three
        # seconds at the door in three frames, too few for the consensus and the presentation-attack stage.
        # Stamped at 5 fps (the camera rate the guest's configuration sets), it sees them slowed down.
        scenario = doorlab.build_scenario(REPO, os.path.join(work, "scenario"), fps=5)
        database = provision_hub(options.bin, work, scenario)
        share = os.path.join(work, "share")
        os.makedirs(share)
        staged = stage(work, options.bin, scenario, database, share)
        image = os.path.join(work, "disk.img")
        subprocess.run([os.path.join(HERE, "systemd-guest", "make-image.sh"), base, staged, image], check=True)
        log(f"installed with make install, provisioned and imaged in {time.monotonic() - t:.0f} s "
            f"({os.path.getsize(image) // (1 << 20)} MiB)")
        kernel = sorted(glob.glob(os.path.join(base, "boot", "vmlinuz-*")))[-1]
        initrd = sorted(glob.glob(os.path.join(base, "boot", "initrd.img-*")))[-1]
        t = time.monotonic()
        log(f"booting the guest ({os.path.basename(kernel)}, systemd as PID 1, TCG)")
        with open(os.path.join(work, "console.log"), "w") as console:
            qemu = subprocess.run(
                ["timeout", str(options.timeout), "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", options.cpu,
                 "-smp", "2", "-m", "3072", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                 "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                 "-append", "root=/dev/vda rw console=ttyS0 quiet panic=-1 systemd.show_status=error",
                 "-drive", f"file={image},if=virtio,format=raw,cache=unsafe",
                 "-fsdev", f"local,id=out,path={share},security_model=none",
                 "-device", "virtio-9p-pci,fsdev=out,mount_tag=out", "-nic", "none"],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
        log(f"guest finished after {time.monotonic() - t:.0f} s (qemu status {qemu.returncode})")
        steps = {}
        lines = open(os.path.join(share, "steps.log")).read().splitlines() if os.path.exists(
            os.path.join(share, "steps.log")) else []
        for line in lines:
            parts = line.split(" ", 3)
            if len(parts) >= 3:
                steps[parts[1]] = parts
                print(f"  {parts[0]:4} {parts[1]:12} {float(parts[2]):7.1f} s  {parts[3] if len(parts) > 3 else ''}")
        failed = [name for name in STEPS if name not in steps or steps[name][0] != "ok"]
        if options.keep:
            os.makedirs(options.keep, exist_ok=True)
            for name in ["steps.log", "screen.png", "journal.txt", "technician.log"]:
                if os.path.exists(os.path.join(share, name)):
                    shutil.copy(os.path.join(share, name), options.keep)
            shutil.copy(os.path.join(work, "console.log"), options.keep)
        if failed or "done" not in lines:
            print(open(os.path.join(work, "console.log"), errors="replace").read()[-4000:])
            technician = os.path.join(share, "technician.log")
            if os.path.exists(technician):
                print(open(technician, errors="replace").read()[-4000:])
            log(f"FAILED: {', '.join(failed) or 'the guest did not finish'}")
            return 1
        log(f"all {len(STEPS)} steps passed; {time.monotonic() - started:.0f} s in all")
        return 0
    finally:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
