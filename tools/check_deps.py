#!/usr/bin/env python3
"""Checks that everything the build links and the tests call comes from tools/install-deps.sh.

A used machine hides a missing install step: a library or a command that some earlier session installed
by hand links and runs here, and a new machine fails. This check asks, for every library that
Package.swift links (`linkedLibrary`, `pkgConfig`, and `link` in the modulemaps under Sources/) and every
command and Python module the Makefile and the tests use (COMMANDS, PYTHON_MODULES below), which Debian package provides it on this
machine, and fails unless that package is one install-deps.sh installs, directly or through its
dependencies (Depends and Pre-Depends; not Recommends, which install-deps.sh does not install). Where a
dependency offers alternatives, a new machine gets the first, so only the first counts (or one that
install-deps.sh lists itself). Essential packages are on every Debian system and count as provided.

    tools/check-deps.sh [--install-deps FILE] [--package-swift FILE] [--verbose]

Exit status: 0 when everything is provided, 1 when something is not (each on one line: what, the file,
the package that provides it here, and the fix), 2 when the check itself cannot run.
The Swift toolchain, git and make are the machine's own (README, "The two commands") and not checked.
"""
import argparse
import functools
import os
import re
import subprocess
import sys

# What the Makefile, tools/ and the tests call, and who calls it. A bare name is looked up on the
# system's PATH (never a venv's or /usr/local's first: those are not Debian's); a path is taken as is.
COMMANDS = {
    "/usr/bin/python3": "the test tools (tools/*.py), .venv-tests, and the vivid guest's helpers",
    "chromium": "tools/e2e.py, tools/hub_group_page_e2e.py, tools/signage/check_page.py (headless browser)",
    "chromedriver": "the same, through selenium",
    "systemd-analyze": "tools/check-units.sh",
    "pkg-config": "swift build (the pkgConfig system libraries)",
    "qemu-system-x86_64": "../shared/vivid/run.sh (VividCameraTests)",
    "/bin/busybox": "../shared/vivid/run.sh (the guest's initramfs)",
    "depmod": "../shared/vivid/run.sh",
    "modprobe": "../shared/vivid/run.sh",
    "v4l2-ctl": "Tests/RollcallCLITests/vivid/*.sh (in the guest)",
    "qrencode": "../shared/vivid (in the guest)",
    "zbarimg": "../shared/vivid (in the guest)",
    "udevadm": "Tests/RollcallCLITests/vivid/udev-rule.sh (in the guest)",
    "/lib/systemd/systemd-udevd": "Tests/RollcallCLITests/vivid/udev-rule.sh (in the guest)",
    "debootstrap": "tools/systemd-guest/build-base.sh (make guest-test)",
    "mkfs.ext4": "tools/systemd-guest/make-image.sh (make guest-test)",
    "/usr/lib/postgresql/15/bin/initdb": "Sources/TestSupport/PostgresCluster.swift (the tests' PostgreSQL)",
    "/usr/lib/postgresql/15/bin/pg_ctl": "the same",
    "/usr/lib/postgresql/15/bin/postgres": "the same",
    "/usr/lib/postgresql/15/bin/createdb": "the same",
    "/usr/lib/postgresql/15/bin/psql": "the same (PostgresStoreTests reads the tables)",
    "runuser": "the same, as root (the server will not run as root)",
    "/usr/sbin/nginx": "Sources/rollcall-hub/NginxFront.swift (rollcall-hub bench load --nginx, make test's hub-load)",
    "/usr/bin/openssl": "the same (the load test's self-signed certificate)",
    "/usr/bin/msmtp": "tools/notify_e2e.py (the hub's sendmail interface, to the loopback SMTP server)",
    "/usr/bin/ldd": "Tests/RollcallCLITests/LinkingTests.swift (what the hub links)",
}
# Libraries that the Swift packages we depend on link (their modulemaps are not ours to scan before
# the build has fetched them).
DEPENDENCY_LIBRARIES = {
    "sqlite3": "GRDB.swift's GRDBSQLite module (the outbox and the hub's store)",
}
# Python modules of Debian's python3 that the set-up uses.
PYTHON_MODULES = {
    "ensurepip": "tools/install-deps.sh (python3 -m venv .venv-tests) and tools/reference/setup.sh",
    "pip": "Models/fetch-models.sh run on its own (python3 -m pip download)",
}
SYSTEM_PATH = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]


class CheckError(Exception):
    """The check cannot run (not a finding)."""


def run(arguments):
    return subprocess.run(arguments, capture_output=True, text=True, check=False)


def listed_packages(install_deps):
    """The names in install-deps.sh's `packages=( ... )` array, comments removed."""
    try:
        text = open(install_deps, encoding="utf-8").read()
    except OSError as error:
        raise CheckError(f"cannot read {install_deps}: {error.strerror}") from error
    match = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not match:
        raise CheckError(f"{install_deps} has no `packages=( ... )` array")
    names = []
    for line in match.group(1).splitlines():
        names += line.split("#", 1)[0].split()
    return names


def dependency_graph(packages):
    """Each package apt can reach from `packages` (Depends, Pre-Depends) with its dependencies, each
    a list of alternatives, each alternative a list of package names (a virtual one: its providers)."""
    result = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                  "--no-breaks", "--no-replaces", "--no-enhances"] + list(packages))
    if result.returncode != 0 or not result.stdout:
        raise CheckError(f"apt-cache depends failed: {result.stderr.strip()} (run `apt-get update` first)")
    # A dependency is a run of lines: alternatives end in "|" except the last; a virtual one
    # (<name>) is followed by its providers, indented further.
    graph, current, group, open_group = {}, None, [], False
    for line in result.stdout.splitlines():
        dependency = re.match(r"^ ([ |])(?:Pre)?Depends: (\S+)", line)
        provider = re.match(r"^    (\S+)$", line)
        if provider and group:
            group[-1].append(provider.group(1).split(":")[0])
        elif dependency and current is not None:
            if not open_group:
                group = []
                graph[current].append(group)
            name = dependency.group(2).split(":")[0]
            group.append([] if name.startswith("<") else [name])
            open_group = dependency.group(1) == "|"
        elif not line.startswith(" "):
            current = line.strip().split(":")[0]
            graph.setdefault(current, [])
            group, open_group = [], False
    return graph


def closure(packages, graph):
    """Every package a new machine gets when apt installs `packages` without recommends: for a
    dependency with alternatives, one that `packages` names, else the first that can be had."""
    wanted, seen, frontier = set(packages), set(), list(packages)
    while frontier:
        package = frontier.pop()
        if package in seen:
            continue
        seen.add(package)
        for alternatives in graph.get(package, []):
            frontier += choose(alternatives, wanted)
    return seen


def choose(alternatives, wanted):
    """The package a new machine installs for one dependency."""
    for options in alternatives:
        for option in options:
            if option in wanted:
                return [option]
    for options in alternatives:
        if options:
            return options[:1]
    return []


def owner(path):
    """The installed package that ships `path` (following symlinks, alternatives among them), or None."""
    seen = set()
    while path and path not in seen:
        seen.add(path)
        for candidate in {path, re.sub(r"^/usr/", "/", path), "/usr" + path}:
            result = run(["dpkg-query", "-S", candidate])
            if result.returncode == 0:
                return result.stdout.split(":")[0].split(",")[0].strip()
        if not os.path.islink(path):
            return None
        target = os.readlink(path)
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return None


def essential_packages():
    result = run(["dpkg-query", "-W", "-f", "${Package} ${Essential}\n"])
    return {line.split()[0] for line in result.stdout.splitlines() if line.endswith(" yes")}


@functools.cache
def library_dirs():
    arch = run(["gcc", "-print-multiarch"]).stdout.strip() or run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    dirs = []
    for base in ["/usr/lib", "/lib"]:
        if arch:
            dirs.append(f"{base}/{arch}")
        dirs.append(base)
    return dirs


@functools.cache
def pkg_config_dirs():
    result = run(["pkg-config", "--variable", "pc_path", "pkg-config"])
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.strip().split(":")
    return [d + "/pkgconfig" for d in library_dirs()] + ["/usr/share/pkgconfig"]


def requirements(package_swift, sources):
    """(kind, name, what-uses-it) for every library and command the build and the tests need."""
    text = open(package_swift, encoding="utf-8").read()
    needs = [("library", name, "Package.swift linkedLibrary") for name in re.findall(r'linkedLibrary\("([^"]+)"', text)]
    needs += [("pkg-config", name, "Package.swift pkgConfig") for name in re.findall(r'pkgConfig:\s*"([^"]+)"', text)]
    for folder, _, files in os.walk(sources):
        for file in files:
            if file == "module.modulemap":
                path = os.path.join(folder, file)
                for name in re.findall(r'\blink\s+"([^"]+)"', open(path, encoding="utf-8").read()):
                    needs.append(("library", name, os.path.relpath(path)))
    needs += [("library", name, who) for name, who in DEPENDENCY_LIBRARIES.items()]
    needs += [("command", name, who) for name, who in COMMANDS.items()]
    needs += [("python module", name, who) for name, who in PYTHON_MODULES.items()]
    seen, unique = set(), []
    for need in needs:
        if need[:2] not in seen:
            seen.add(need[:2])
            unique.append(need)
    return unique


def locate(kind, name):
    """The file on this machine that satisfies a requirement, or None."""
    if kind == "library":
        candidates = [f"{d}/lib{name}.so" for d in library_dirs()]
    elif kind == "pkg-config":
        candidates = [f"{d}/{name}.pc" for d in pkg_config_dirs()]
    elif kind == "python module":
        result = run(["/usr/bin/python3", "-I", "-c",
                      f"import importlib.util as u; s = u.find_spec({name!r}); print(s.origin if s else '')"])
        candidates = [result.stdout.strip()] if result.returncode == 0 and result.stdout.strip() else []
    elif name.startswith("/"):
        candidates = [name]
    else:
        candidates = [f"{d}/{name}" for d in SYSTEM_PATH]
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    return None


def describe(kind, name):
    return {"library": f"-l{name}", "pkg-config": f"pkg-config {name}", "command": name,
            "python module": f"python3 -m {name}"}[kind]


def locate_all(needs):
    """Each requirement with the file that satisfies it here and that file's package (None if none)."""
    located = []
    for kind, name, who in needs:
        path = locate(kind, name)
        located.append((kind, name, who, path, owner(path) if path else None))
    return located


def judge(located, provided, script):
    """One line per requirement that a new machine, given only `provided`, would miss."""
    problems = []
    for kind, name, who, path, package in located:
        what = describe(kind, name)
        if path is None:
            problems.append(f"{what} ({who}): not found on this machine, so no package that {script} installs "
                            f"provides it; fix: add the Debian package that ships it to {script} "
                            f"(`apt-file search` names it)")
        elif package is None:
            problems.append(f"{what} ({who}): {path} belongs to no Debian package (installed by hand?); fix: "
                            f"add the Debian package that ships it to {script}")
        elif package not in provided:
            problems.append(f"{what} ({who}): {path} comes from {package} here, which {script} does not install "
                            f"(neither itself nor through a dependency); fix: add {package} to the packages in {script}")
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install-deps", default=os.path.join(here, "install-deps.sh"))
    parser.add_argument("--package-swift", default=os.path.join(repo, "Package.swift"))
    parser.add_argument("--sources", default=os.path.join(repo, "Sources"))
    parser.add_argument("--verbose", action="store_true", help="print every requirement and its package")
    options = parser.parse_args()
    try:
        listed = listed_packages(options.install_deps)
        provided = closure(listed, dependency_graph(listed)) | essential_packages()
        located = locate_all(requirements(options.package_swift, options.sources))
    except CheckError as error:
        print(f"check-deps: cannot check: {error}", file=sys.stderr)
        return 2
    script = os.path.relpath(options.install_deps)
    if options.verbose:
        for kind, name, _, path, package in located:
            print(f"check-deps: {describe(kind, name)}: {path or 'missing'} from {package or 'no package'}")
    problems = judge(located, provided, script)
    for problem in problems:
        print(f"check-deps: {problem}", file=sys.stderr)
    if problems:
        print(f"check-deps: {len(problems)} of {len(located)} requirements not provided by {script}: a new machine "
              f"would fail where this one works", file=sys.stderr)
        return 1
    print(f"check-deps: all {len(located)} libraries, commands and modules come from packages {script} installs "
          f"({len(listed)} listed, {len(provided)} with dependencies and essentials)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
