#!/usr/bin/env python3
"""Summarises `rollcall encode` output: faces per image, and which faces belong to one person.

Reads JSON lines on standard input. Two faces are taken for one person when their encodings lie
within 0.6 of each other (the distance dlib's model was trained for), grouped greedily.
"""
import json
import math
import os
import sys

THRESHOLD = 0.6


def distance(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def main():
    images, faces = 0, []
    for line in sys.stdin:
        record = json.loads(line)
        images += 1
        name = os.path.basename(record["image"])
        print(f"  {name:<26} {record['width']:>5}x{record['height']:<5} {len(record['faces'])} face(s)")
        for index, face in enumerate(record["faces"]):
            faces.append((f"{name}#{index}", face["encoding"]))
    people = []  # each: list of (label, encoding)
    for label, encoding in faces:
        for person in people:
            if distance(person[0][1], encoding) < THRESHOLD:
                person.append((label, encoding))
                break
        else:
            people.append([(label, encoding)])
    print(f"{images} images, {len(faces)} faces, {len(people)} distinct people (encodings within {THRESHOLD}):")
    for number, person in enumerate(people, 1):
        print(f"  person {number}: " + ", ".join(label for label, _ in person))


if __name__ == "__main__":
    main()
