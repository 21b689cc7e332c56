#!/usr/bin/env python3
"""Runs one step of `make test` (or of CI) with a time bound, and says how it went in a few lines.

    tools/step.py NAME SECONDS [--tail N] -- COMMAND [ARG...]

The command's whole output goes to .build/test-logs/NAME.log (and to the terminal as well, when
there is one). When the command ends, the step prints its last lines (3, or N) and one verdict line:
"step NAME: passed in N s" or "step NAME: FAILED (exit S | not done within N s) after N s".
A failed step prints the failure lines of its log (swift-testing's "✘", Python's tracebacks,
"FAIL"), the tests that had started and not ended (when the log is swift-testing's), and the log's
tail, so that a CI log that keeps only a part of the output still says which step, which test and
why. A step over its bound gets SIGTERM, then SIGKILL 20 s later, with every process it started
(it runs in a process group of its own). The exit status is the command's (124 for the bound).
"""
import os
import re
import signal
import subprocess
import sys
import time

TAIL_OK = 3
TAIL_FAILED = 60


def unfinished_tests(lines):
    """Tests swift-testing says started and never said ended, in the order they started."""
    started, ended = {}, set()
    for line in lines:
        match = re.match(r"^\S+ Test (.+) started\.$", line)
        if match:
            started.setdefault(match.group(1), len(started))
            continue
        match = re.match(r"^\S+ Test (.+?) (passed|failed|skipped|recorded)\b", line)
        if match:
            ended.add(match.group(1))
    return [name for name in sorted(started, key=started.get) if name not in ended]


def failure_lines(lines):
    marks = ("✘", "FAIL", "Traceback", "Error:", "error:", "Fatal error", "Assertion failed")
    return [line for line in lines if any(mark in line for mark in marks)]


def main():
    arguments = sys.argv[1:]
    split = arguments.index("--") if "--" in arguments else -1
    options, command = arguments[:split], arguments[split + 1:]
    tail = TAIL_OK
    if len(options) == 4 and options[2] == "--tail" and options[3].isdigit():
        tail = int(options[3])
    elif len(options) != 2:
        options = []
    if not options or not options[1].isdigit() or not command:
        print("usage: " + __doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    name, limit = options[0], int(options[1])
    folder = os.path.join(".build", "test-logs")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".log")
    echo = sys.stdout.isatty()
    print(f"step {name}: {' '.join(command)} (at most {limit} s; log {path})", flush=True)
    began = time.monotonic()
    timed_out = False
    with open(path, "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)

        def stop(signum=signal.SIGTERM):
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                pass

        def on_alarm(*_):
            nonlocal timed_out
            timed_out = True
            stop(signal.SIGTERM)
            signal.signal(signal.SIGALRM, lambda *_: stop(signal.SIGKILL))
            signal.alarm(20)

        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(limit)
        # make's own interruption (^C, or CI's SIGTERM) reaches the step's processes too.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _: stop(number))
        for chunk in iter(lambda: process.stdout.read1(65536), b""):
            log.write(chunk)
            log.flush()
            if echo:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
        status = process.wait()
        signal.alarm(0)
        # A grandchild that outlived the command (a server left running) is not left behind.
        stop(signal.SIGKILL)
    took = time.monotonic() - began
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    if status == 0 and not timed_out:
        if not echo:
            for line in lines[-tail:]:
                print("  | " + line)
        print(f"step {name}: passed in {took:.0f} s", flush=True)
        return 0
    if not echo:
        failures = failure_lines(lines)
        if failures:
            print(f"  the failure lines ({len(failures)}):")
            for line in failures[:80]:
                print("  ! " + line[:400])
        for line in lines[-TAIL_FAILED:]:
            print("  | " + line[:400])
    pending = unfinished_tests(lines)
    if pending:
        print(f"  tests started and not ended ({len(pending)}):")
        for test in pending[:40]:
            print("  ? " + test[:300])
    reason = f"not done within {limit} s, stopped" if timed_out else f"exit {status}"
    print(f"step {name}: FAILED ({reason}) after {took:.0f} s; the whole log: {path}", flush=True)
    return 124 if timed_out else (status if status > 0 else 1)


if __name__ == "__main__":
    sys.exit(main())
