#!/usr/bin/env python3
"""Generate "unseen" test images from the fixture photos: make_unseen.py OUTDIR

Each image stresses one thing that a port can get subtly wrong (resampling,
decoding of unusual PNG/JPEG variants, faces near borders, several faces).
No randomness: with the same Pillow (pinned by setup.sh) the files are byte-identical
on every run. Fixtures are read from $ROLLCALL_FIXTURES, else ../shared/fixtures
beside the repository.
"""
import os
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("ROLLCALL_FIXTURES") or REPO.parent / "shared" / "fixtures")


def src(name):
    with Image.open(FIXTURES / "faces" / name) as im:
        im.load()
        return im


def scale(im, f, resample=Image.Resampling.BICUBIC):
    return im.resize((round(im.width * f), round(im.height * f)), resample)


def gray16(im, factor):
    # factor 257 spreads 8-bit values over the full 16-bit range, as a real 16-bit
    # photo would; factor 1 keeps them <= 255. The reference's convert('RGB') clips
    # I;16 values at 255 instead of scaling them, so the two behave very differently.
    return im.convert("L").convert("I").point(lambda v: v * factor).convert("I;16")


def collage(*images, height=400):
    parts = [scale(im, height / im.height) for im in images]
    out = Image.new("RGB", (sum(p.width for p in parts), height))
    x = 0
    for p in parts:
        out.paste(p, (x, 0))
        x += p.width
    return out


def with_alpha(im):
    # Alpha must be dropped without compositing: give it a gradient so that
    # compositing over any background would change the pixels.
    rgba = im.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(im.size))
    return rgba


def exif_orientation(value):
    # The reference ignores EXIF orientation, so it sees the stored pixels as they
    # are; a port must not apply the tag either.
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def images():
    """Yield (filename, image, extra save options)."""
    obama, biden, two = src("obama.jpg"), src("biden.jpg"), src("two_people.jpg")
    o480, small, o2, rgba = src("obama-480p.jpg"), src("obama_small.jpg"), src("obama2.jpg"), src("32bit.png")
    mirror = ImageOps.mirror
    q = lambda quality, **kw: {"quality": quality, **kw}
    yield "mirror-obama.jpg", mirror(obama), q(90)
    yield "mirror-two_people.jpg", mirror(two), q(90)
    yield "mirror-biden.png", mirror(biden), {}
    yield "crop-obama-face.jpg", obama.crop((250, 50, 751, 551)), q(90)       # odd size 501x501
    yield "crop-two_people-left.jpg", two.crop((0, 0, 563, 661)), q(90)
    yield "crop-biden-tight.png", biden.crop((480, 300, 1100, 900)), {}        # face cut by the left border
    yield "crop-obama-noface.jpg", obama.crop((0, 700, 910, 1137)), q(90)     # no face expected
    yield "scale060-obama-480p.jpg", scale(o480, 0.6), q(90)
    yield "scale080-obama-480p.jpg", scale(o480, 0.8, Image.Resampling.BILINEAR), q(90)
    yield "scale130-obama-480p.jpg", scale(o480, 1.3, Image.Resampling.LANCZOS), q(90)
    yield "scale030-biden.jpg", scale(biden, 0.3, Image.Resampling.LANCZOS), q(90)
    yield "scale080-two_people.png", scale(two, 0.8), {}
    yield "scale050-obama_small.jpg", scale(small, 0.5), q(90)               # tiny face: upsample matters
    yield "scale200-obama_small.png", scale(small, 2.0, Image.Resampling.NEAREST), {}
    yield "bright130-obama.jpg", ImageEnhance.Brightness(obama).enhance(1.3), q(90)
    yield "bright060-biden.jpg", ImageEnhance.Brightness(biden).enhance(0.6), q(90)
    yield "contrast150-two_people.jpg", ImageEnhance.Contrast(two).enhance(1.5), q(90)
    yield "contrast060-obama2.png", ImageEnhance.Contrast(o2).enhance(0.6), {}
    yield "rot+7-obama.jpg", obama.rotate(7, Image.Resampling.BICUBIC), q(90)
    yield "rot-7-obama2.jpg", o2.rotate(-7, Image.Resampling.BICUBIC), q(90)
    yield "rot+5-two_people.png", two.rotate(5, Image.Resampling.BILINEAR, expand=True), {}
    yield "jpeg-q30-obama.jpg", obama, q(30)
    yield "jpeg-q60-two_people.jpg", two, q(60)
    yield "jpeg-q95-444-biden.jpg", biden, q(95, subsampling=0)
    yield "jpeg-q85-progressive-obama-480p.jpg", o480, q(85, progressive=True)
    yield "gray-obama.png", obama.convert("L"), {}
    yield "gray-two_people.jpg", two.convert("L"), q(90)                      # 1-component JPEG
    yield "gray16-obama.png", gray16(obama, 257), {}
    yield "gray16low-obama2.png", gray16(o2, 1), {}
    yield "palette-obama2.png", o2.convert("P", palette=Image.Palette.ADAPTIVE, colors=256), {}
    yield "rgba-two_people.png", with_alpha(two), {}
    yield "rgba-32bit-mirror.png", mirror(rgba), {}
    yield "collage-obama-biden.jpg", collage(obama, biden), q(90)
    yield "collage-biden-obama2.png", collage(biden, o2), {}
    yield "exif6-obama-480p.jpg", o480, q(90, exif=exif_orientation(6))   # "rotate 90 CW to display"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n")[0])
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for name, im, opts in images():
        im.save(out / name, **opts)
        n += 1
    print(f"wrote {n} images to {out} (fixtures: {FIXTURES})")


if __name__ == "__main__":
    main()
