"""Times the reference doing a door's face work on a video, the naive way: every frame, detect at
upsample 1 (face_recognition's default) and encode every face, then compare with the known faces.

    .venv-reference/bin/python tools/reference/replay_reference.py VIDEO.avi KNOWN_IMAGE...

VIDEO must be an MJPEG AVI (what rollcall's VideoWriter and the scenario make): its frames are read
straight from the RIFF chunks with Pillow, so no OpenCV is needed in the reference's venv.
"""
import io
import struct
import sys
import time

import face_recognition
import numpy as np
from PIL import Image


def mjpeg_frames(path):
    data = open(path, "rb").read()
    position = data.find(b"movi")
    while position != -1:
        position = data.find(b"00dc", position)
        if position == -1:
            return
        (size,) = struct.unpack_from("<I", data, position + 4)
        chunk = data[position + 8 : position + 8 + size]
        position += 8 + size
        if chunk[:2] == b"\xff\xd8":
            yield np.array(Image.open(io.BytesIO(chunk)).convert("RGB"))


def main():
    video, known_paths = sys.argv[1], sys.argv[2:]
    known = [face_recognition.face_encodings(face_recognition.load_image_file(p))[0] for p in known_paths]
    frames = faces = matches = 0
    started = time.perf_counter()
    for frame in mjpeg_frames(video):
        locations = face_recognition.face_locations(frame, number_of_times_to_upsample=1)
        for encoding in face_recognition.face_encodings(frame, locations):
            faces += 1
            matches += bool(np.any(face_recognition.face_distance(known, encoding) <= 0.6))
        frames += 1
    seconds = time.perf_counter() - started
    print(f"reference: {frames} frames, {faces} faces encoded, {matches} matched, "
          f"{seconds:.1f} s, {frames / seconds:.1f} fps")


if __name__ == "__main__":
    main()
