#!/usr/bin/env python3
"""Time the reference pipeline on one 640x480 frame: bench_reference.py [IMAGE] [--runs N]

Prints {"detect_ms": .., "landmarks_ms": .., "encode_ms": ..}: medians over N runs
after a warm-up, of detection at upsample 0, of the 5-point shape predictor on the
first face, and of one encoding step (shape predictor + descriptor, as
face_recognition.face_encodings does per face). Medians, because the machine is
shared with other builds and the mean would follow their noise.

With --match-templates N it prints {"match_ms": .., "templates": N} instead: the reference's
search (face_recognition.face_distance: numpy over a float32 matrix of N random unit
templates, then the nearest two people), the figure `rollcall bench match` is set against.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from face_recognition import api
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = REPO.parent / "shared" / "fixtures" / "faces" / "obama-480p.jpg"


def median_ms(fn, runs):
    fn()  # warm-up: first calls allocate buffers and fault in the models' pages
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


def bench_match(templates, runs):
    """face_distance over N random unit templates (four per person), then the nearest two people."""
    generator = np.random.default_rng(7)
    matrix = generator.standard_normal((templates, 128)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    owners = np.arange(templates) // 4
    probe = generator.standard_normal(128).astype(np.float32)
    probe /= np.linalg.norm(probe)

    def search():
        distances = api.face_distance(matrix, probe)
        best = owners[np.argmin(distances)]
        others = np.where(owners == best, np.inf, distances)
        return best, owners[np.argmin(others)]

    return {"match_ms": median_ms(search, runs), "templates": templates, "runs": runs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--match-templates", type=int, default=0,
                    help="time the reference's search of N templates instead of the vision steps")
    args = ap.parse_args()
    if args.match_templates > 0:
        print(json.dumps(bench_match(args.match_templates, args.runs)))
        return

    # Same decode as load_image_file, then a plain resize: the point is a fixed
    # 640x480 workload, not matching any particular camera.
    with Image.open(args.image) as im:
        im = im.convert("RGB")
        if im.size != (640, 480):
            im = im.resize((640, 480))
        img = np.array(im)

    rects = api.face_detector(img, 0) or api.face_detector(img, 1)
    if not rects:
        sys.exit(f"{args.image}: no face found in the 640x480 frame")
    rect = rects[0]

    def encode():
        api.face_encoder.compute_face_descriptor(img, api.pose_predictor_5_point(img, rect), 1)

    print(json.dumps({
        "detect_ms": median_ms(lambda: api.face_detector(img, 0), args.runs),
        "landmarks_ms": median_ms(lambda: api.pose_predictor_5_point(img, rect), args.runs),
        "encode_ms": median_ms(encode, args.runs),
    }))


if __name__ == "__main__":
    main()
