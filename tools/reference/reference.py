#!/usr/bin/env python3
"""Run the reference face pipeline (face_recognition 1.3.0 / dlib 19.24) on images.

Prints one JSON object per image per line:
  {"image": PATH, "width": W, "height": H,
   "faces": [{"box": [l, t, r, b], "landmarks": [[x, y] x5], "encoding": [128 floats]}]}

The dlib objects are called directly rather than through face_recognition's helpers,
because those trim boxes to the image and reorder them as css tuples; our fixtures
(and our Swift pipeline) use dlib's raw rectangles, which may extend past the border.

Run with the venv made by setup.sh: .venv-reference/bin/python tools/reference/reference.py
"""
import argparse
import json
import sys

import face_recognition
from face_recognition import api


def analyse(path, upsample, boxes_only):
    # load_image_file is the reference's decoder (Pillow, convert('RGB')); using it
    # keeps alpha dropping, grayscale expansion and the ignored EXIF orientation identical.
    img = face_recognition.load_image_file(path)
    faces = []
    for rect in api.face_detector(img, upsample):
        face = {"box": [rect.left(), rect.top(), rect.right(), rect.bottom()]}
        if not boxes_only:
            shape = api.pose_predictor_5_point(img, rect)
            face["landmarks"] = [[p.x, p.y] for p in shape.parts()]
            # num_jitters=1, padding left at dlib's default 0.25, as face_encodings does.
            face["encoding"] = list(api.face_encoder.compute_face_descriptor(img, shape, 1))
        faces.append(face)
    return {"image": path, "width": img.shape[1], "height": img.shape[0], "faces": faces}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="+", metavar="IMAGE")
    ap.add_argument("--upsample", type=int, default=1, help="detector pyramid-up steps (default 1)")
    ap.add_argument("--boxes-only", action="store_true", help="skip landmarks and encodings")
    args = ap.parse_args()

    failed = 0
    for path in args.images:
        try:
            result = analyse(path, args.upsample, args.boxes_only)
        except Exception as e:  # one bad file must not stop a batch run
            print(f"{path}: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
