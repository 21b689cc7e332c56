#!/usr/bin/env python3
"""Compare face results of two runs: EXPECTED (usually the reference) vs ACTUAL.

Both files are JSON lines as printed by reference.py. EXPECTED may also be the
fixtures' faces-expected.json, read at --upsample (faces_upsample1, or only boxes
where the file has no faces for that upsample).

Images are matched by basename, faces by box (nearest box centre), so a wrong box
still gets its landmarks and encoding checked. Boxes, landmarks and the detector's
order must be exact; encodings must be within --tol (L2). Exit 1 on any mismatch.
Needs only the standard library.
"""
import argparse
import json
import math
import os
import sys


def load(path, upsample):
    with open(path) as f:
        text = f.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None  # several lines: JSON lines
    if isinstance(doc, dict) and "images" in doc:  # fixtures' faces-expected.json
        runs = []
        for name, v in doc["images"].items():
            faces = v.get(f"faces_upsample{upsample}")
            if faces is None:
                faces = [{"box": b} for b in v[f"boxes_upsample{upsample}"]]
            runs.append({"image": name, "width": v["width"], "height": v["height"], "faces": faces})
    else:
        runs = [json.loads(line) for line in text.splitlines() if line.strip()]
    by_name = {}
    for run in runs:
        name = os.path.basename(run["image"])
        if name in by_name:
            sys.exit(f"{path}: basename {name} appears twice")
        by_name[name] = run
    return by_name


def centre(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def pair_faces(exp, act):
    """Greedy nearest-centre pairing; returns [(exp_index, act_index)]."""
    cands = sorted(
        (math.dist(centre(e["box"]), centre(a["box"])), i, j)
        for i, e in enumerate(exp) for j, a in enumerate(act))
    pairs, used_e, used_a = [], set(), set()
    for _, i, j in cands:
        if i not in used_e and j not in used_a:
            pairs.append((i, j))
            used_e.add(i)
            used_a.add(j)
    return sorted(pairs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--tol", type=float, default=1e-4, help="max L2 distance between encodings")
    ap.add_argument("--upsample", type=int, default=1, help="which upsample to read from faces-expected.json")
    args = ap.parse_args()

    exp_all = load(args.expected, args.upsample)
    act_all = load(args.actual, args.upsample)
    for name in sorted(set(act_all) - set(exp_all)):
        print(f"{name}: not in expected, ignored", file=sys.stderr)

    t = dict(images=0, faces=0, box_mismatch=0, landmark_mismatch=0, max_l2=0.0, over_tol=0,
             count_mismatch=0, order_mismatch=0, size_mismatch=0, missing_images=0)
    for name in sorted(exp_all):
        exp = exp_all[name]
        t["images"] += 1
        t["faces"] += len(exp["faces"])
        act = act_all.get(name)
        if act is None:
            t["missing_images"] += 1
            print(f"{name}: MISSING from actual")
            continue
        notes = []
        if (exp["width"], exp["height"]) != (act["width"], act["height"]):
            t["size_mismatch"] += 1
            notes.append(f"size {act['width']}x{act['height']} != {exp['width']}x{exp['height']}")
        ef, af = exp["faces"], act["faces"]
        if len(ef) != len(af):
            t["count_mismatch"] += 1
            notes.append(f"faces {len(af)} != {len(ef)}")
        pairs = pair_faces(ef, af)
        if any(i != j for i, j in pairs):
            t["order_mismatch"] += 1
            notes.append("detector order differs")
        image_l2 = 0.0
        for i, j in pairs:
            e, a = ef[i], af[j]
            if e["box"] != a["box"]:
                t["box_mismatch"] += 1
                notes.append(f"box {a['box']} != {e['box']}")
            # A field absent from ACTUAL but present in EXPECTED counts as a mismatch.
            if "landmarks" in e and e["landmarks"] != a.get("landmarks"):
                t["landmark_mismatch"] += 1
                notes.append(f"landmarks {a.get('landmarks')} != {e['landmarks']}")
            if "encoding" in e:
                if len(a.get("encoding", ())) != len(e["encoding"]):
                    l2 = math.inf
                else:
                    l2 = math.dist(e["encoding"], a["encoding"])
                image_l2 = max(image_l2, l2)
                if l2 > args.tol:
                    t["over_tol"] += 1
                    notes.append(f"encoding l2 {l2:.3g} > {args.tol:g}")
        t["max_l2"] = max(t["max_l2"], image_l2)
        status = "; ".join(notes) if notes else "ok"
        print(f"{name}: faces={len(af)}/{len(ef)} max_l2={image_l2:.3g} {status}")

    print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items()))
    bad = sum(v for k, v in t.items() if k not in ("images", "faces", "max_l2"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
