#!/usr/bin/env python3
"""Tests tools/check-deps.sh on copies of tools/install-deps.sh, each with one package taken out.

    python3 tools/test_check_deps.py

1. The real list passes.
2. Without libopenblas-dev (the set-up bug of issue 13) the check fails and names -lblas and -llapack,
   the package that provides them here and the fix.
3. Every listed package is needed: without it, the check fails and names what it provided, unless
   another listed package depends on it, which apt-cache itself is asked. (This runs the checker's
   functions in-process, with this machine's facts gathered once; 1 and 2 run the script.)
Needs the packages installed (run after tools/install-deps.sh). Ends with "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_deps  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
checker = os.path.join(here, "check-deps.sh")
install_deps = os.path.join(here, "install-deps.sh")
passed, failed = 0, 0


def check(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}\n{detail}")


def without(package, folder):
    """A copy of install-deps.sh whose packages array lacks `package`."""
    text = open(install_deps, encoding="utf-8").read()
    start = text.index("packages=(")
    end = text.index("\n)", start)
    block = re.sub(rf"(?m)^(\s*){re.escape(package)}(\s|$)", r"\1\2", text[start:end])
    copy = os.path.join(folder, f"install-deps-without-{package}.sh")
    with open(copy, "w", encoding="utf-8") as file:
        file.write(text[:start] + block + text[end:])
    return copy


def run_checker(copy=None):
    arguments = [checker] + (["--install-deps", copy] if copy else [])
    result = subprocess.run(arguments, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


def reached_from_others(package, packages):
    """Whether apt reaches `package` from the other listed packages (Depends, Pre-Depends)."""
    others = [p for p in packages if p != package]
    result = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + others,
                            capture_output=True, text=True, check=False)
    return any(line.strip().split(":")[0] == package for line in result.stdout.splitlines() if not line.startswith(" "))


def main():
    status, output = run_checker()
    check(status == 0, "the real tools/install-deps.sh provides every library and command", output)
    packages = check_deps.listed_packages(install_deps)
    with tempfile.TemporaryDirectory() as folder:
        status, output = run_checker(without("libopenblas-dev", folder))
        check(status == 1 and "-lblas" in output and "-llapack" in output and "libopenblas" in output
              and "fix: add" in output,
              "without libopenblas-dev: fails naming -lblas, -llapack, the OpenBLAS package and the fix", output)
    graph = check_deps.dependency_graph(packages)
    essential = check_deps.essential_packages()
    repo = os.path.dirname(here)
    located = check_deps.locate_all(check_deps.requirements(os.path.join(repo, "Package.swift"),
                                                           os.path.join(repo, "Sources")))
    for package in packages:
        rest = [p for p in packages if p != package]
        problems = check_deps.judge(located, check_deps.closure(rest, graph) | essential, "install-deps.sh")
        if problems:
            named = [line for line in problems if " comes from " in line and "does not install" in line]
            check(len(named) == len(problems), f"without {package}: fails, naming what it provided: "
                  + "; ".join(line.split(" (", 1)[0] for line in named), "\n".join(problems))
        else:
            check(reached_from_others(package, packages),
                  f"without {package}: passes, and rightly: another listed package depends on it",
                  f"nothing else brings {package} in: either check_deps.py misses the library or command it is "
                  "listed for, or it is not needed")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
