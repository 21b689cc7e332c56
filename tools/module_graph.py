#!/usr/bin/env python3
"""The modules of Package.swift as the flow of the product, checked and drawn.

    tools/module_graph.py            prints the README's diagram (Mermaid) of Package.swift's targets
    tools/module_graph.py --write    puts it in README.md in place of the old one
    tools/module_graph.py --check    fails unless every dependency points down the flow, README.md holds
                                     the diagram as printed, and its "What is here" table names every
                                     folder of Sources/ (a step of `make lint`)

The flow: what a door does with a frame, then what the hub does with what doors send. Each target has
a stage (STAGES below); a target may depend only on targets of its own stage or an earlier one, so that
every arrow of the diagram (from a module to the modules built on it) points down the flow. The graph
comes from `swift package dump-package` (no build); the diagram leaves out the arrows that others imply
(if A is under B and B under C, A to C is not drawn). Exit status: 0 when it holds, 1 when it does not
(each finding on one line), 2 when the check cannot run.
"""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The stages in the order of the flow, and the targets in each (test targets are not drawn).
STAGES = [
    ("domain", "the rules and the wire: no I/O (Swift, and the matcher's C kernels)",
     ["CMatch", "Recognition", "Attendance", "Badges", "Sealing", "SyncProtocol"]),
    ("pixels", "images in Swift, for the camera and the face core alike", ["CImaging", "Imaging"]),
    ("camera", "frames from V4L2 or from files", ["CV4L2", "Capture"]),
    ("vision", "faces and QR codes in images, enrollment checks",
     ["CVision", "Vision", "CZBar", "QRScanning", "CQREncode", "QRDrawing", "Enrollment"]),
    ("decisions", "frames to decisions", ["Pipeline"]),
    ("store", "the door's durable store", ["Outbox"]),
    ("sync", "the door's store to and from the hub", ["Sync"]),
    ("door", "the daemon, its screen, systemd, the command", ["Signage", "CSystemd", "Systemd", "Kiosk",
                                                             "RollcallCLI", "rollcall"]),
    ("hub", "the central server", ["Hub", "CZlibInflate", "HubServer", "rollcall-hub"]),
    ("tests", "test footage and test helpers", ["Scenario", "rollcall-scenario", "TestSupport"]),
]
BEGIN = "<!-- module graph: tools/module_graph.py prints it, make lint checks it -->"


def load_targets():
    """{target: [its dependencies among the package's targets]} for every target that is not a test."""
    try:
        out = subprocess.run(["swift", "package", "dump-package"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"module_graph: swift package dump-package failed: {error}") from error
    package = json.loads(out)
    names = {target["name"] for target in package["targets"]}
    graph = {}
    for target in package["targets"]:
        if target["type"] == "test":
            continue
        deps = []
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            if kind in ("byName", "target") and value[0] in names:
                deps.append(value[0])
        graph[target["name"]] = deps
    return graph


def stage_of():
    return {name: index for index, (_, _, names) in enumerate(STAGES) for name in names}


def findings(graph):
    stages = stage_of()
    problems = []
    for target in sorted(graph):
        if target not in stages:
            problems.append(f"{target}: a target of Package.swift in no stage; add it to STAGES in tools/module_graph.py")
    for target, deps in sorted(graph.items()):
        for dep in deps:
            if target in stages and dep in stages and stages[dep] > stages[target]:
                problems.append(f"{target} ({STAGES[stages[target]][0]}) depends on {dep} "
                                f"({STAGES[stages[dep]][0]}, later in the flow): an arrow against the flow")
    for name in stages:
        if name not in graph:
            problems.append(f"{name}: in STAGES but not a target of Package.swift")
    return problems


def reduced_edges(graph):
    """The dependencies not implied by others (a transitive reduction of the acyclic graph)."""
    def reachable(start, skip):
        seen, stack = set(), [d for d in graph.get(start, []) if d != skip]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, []))
        return seen
    edges = []
    for target, deps in graph.items():
        for dep in deps:
            if dep not in reachable(target, dep):
                edges.append((dep, target))
    return edges


def node_id(name):
    return name.replace("-", "_")


def diagram(graph):
    stages = stage_of()
    lines = [BEGIN, "```mermaid", "flowchart TB"]
    for index, (key, label, names) in enumerate(STAGES):
        lines.append(f'  subgraph {key}["{index + 1}. {key}: {label}"]')
        for name in names:
            lines.append(f"    {node_id(name)}[{name}]")
        lines.append("  end")
    for dep, target in sorted(reduced_edges(graph), key=lambda e: (stages.get(e[0], 99), e[0], stages.get(e[1], 99), e[1])):
        lines.append(f"  {node_id(dep)} --> {node_id(target)}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def table_findings(readme):
    """The folders of Sources/ that README's "What is here" table does not name, and the names it has
    that are not folders."""
    start = readme.find("## What is here")
    if start < 0:
        return ['README.md has no "What is here" section']
    end = readme.find("\n## ", start + 1)
    section = readme[start:end if end > 0 else len(readme)]
    named = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split(" | ")[0]
            named.update(part for part in first.replace("|", "").replace("`", "").replace(",", " ").split()
                         if part.startswith("Sources/"))
    folders = {f"Sources/{name}" for name in os.listdir(os.path.join(REPO, "Sources"))
               if os.path.isdir(os.path.join(REPO, "Sources", name))}
    problems = [f"README.md's \"What is here\" table does not name {folder}" for folder in sorted(folders - named)
                if not any(other.startswith(folder + "/") for other in named)]
    problems += [f"README.md's \"What is here\" table names {path}, which is not a folder"
                 for path in sorted(named) if not os.path.isdir(os.path.join(REPO, path))]
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check the flow and README.md's diagram")
    parser.add_argument("--write", action="store_true", help="put the diagram in README.md")
    args = parser.parse_args()
    graph = load_targets()
    text = diagram(graph)
    if args.write:
        path = os.path.join(REPO, "README.md")
        readme = open(path, encoding="utf-8").read()
        start = readme.find(BEGIN)
        if start < 0:
            print(f"module_graph: README.md has no line {BEGIN}", file=sys.stderr)
            return 2
        end = readme.index("```\n", readme.index("```mermaid", start) + 3) + 4
        with open(path, "w", encoding="utf-8") as out:
            out.write(readme[:start] + text + readme[end:])
        return 0
    if not args.check:
        sys.stdout.write(text)
        return 0
    problems = findings(graph)
    try:
        readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    except OSError as error:
        print(f"module_graph: cannot read README.md: {error}", file=sys.stderr)
        return 2
    problems += table_findings(readme)
    if text not in readme:
        problems.append("README.md does not hold the module diagram as Package.swift draws it: "
                        "put the output of tools/module_graph.py in place of the old one")
    for problem in problems:
        print(f"module_graph: {problem}")
    if not problems:
        print(f"module_graph: {len(graph)} targets, every dependency down the flow; README's diagram up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
