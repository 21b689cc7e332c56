#!/usr/bin/env python3
"""Time the reference pipeline on one 640x480 frame: bench_reference.py [IMAGE] [--runs N]

Prints {"detect_ms": .., "landmarks_ms": .., "encode_ms": ..}: medians over N runs
after a warm-up, of detection at upsample 0, of the 5-point shape predictor on the
first face, and of one encoding step (shape predictor + descriptor, as
face_recognition.face_encodings does per face). Medians, because the machine is
shared with other builds and the mean would follow their noise.
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE))
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

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
