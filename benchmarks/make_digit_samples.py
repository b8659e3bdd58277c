"""Make the sample digit images shipped with the course (``checks/own_digit/samples/``).

New digits, not MNIST's: each is a hand-designed stroke path (polylines and arcs in a unit box),
jittered by a seeded random generator and drawn with a round pen by Pillow. Half are "drawn"
(black strokes on a white canvas, as the draw-a-digit page or a paint program makes them), half
"photo-like" (felt pen on paper photographed: off-centre, slightly rotated, uneven lighting, a warm
paper tint, sensor noise, a little blur, saved as JPEG; two stored sideways with an EXIF
orientation tag, as phones do). Deterministic: the same files on every run (seed below)::

    python benchmarks/make_digit_samples.py            # writes checks/own_digit/samples/
    python benchmarks/make_digit_samples.py --check    # fails if the files differ from a rerun

The images are CC0 1.0 (see the folder's README.md). File names start with the digit drawn.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SEED = 20_260_101
SAMPLES = Path(__file__).resolve().parent.parent / "checks" / "own_digit" / "samples"
ORIENTATION = 0x0112  # the EXIF tag
Stroke = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    steps = max(8, int(abs(end - start) / 8))
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


# Each digit: strokes in a unit box (x right, y down), drawn as a person would.
DIGITS: dict[int, list[Stroke]] = {
    0: [arc(0.5, 0.5, 0.3, 0.45, -90, 270)],
    1: [[(0.32, 0.22), (0.55, 0.04), (0.55, 0.96)]],
    2: [[*arc(0.5, 0.3, 0.3, 0.26, 195, 380), (0.18, 0.95), (0.85, 0.95)]],
    3: [arc(0.48, 0.27, 0.27, 0.22, 200, 450) + arc(0.48, 0.71, 0.32, 0.25, -90, 150)],
    4: [[(0.62, 0.96), (0.62, 0.04), (0.12, 0.66), (0.88, 0.66)]],
    5: [[(0.82, 0.05), (0.32, 0.05), (0.27, 0.45), *arc(0.5, 0.68, 0.31, 0.27, -130, 150)]],
    6: [[(0.72, 0.05), (0.46, 0.22), (0.29, 0.48), *arc(0.5, 0.71, 0.24, 0.24, 180, 540)]],
    7: [[(0.12, 0.05), (0.86, 0.05), (0.42, 0.96)]],
    8: [arc(0.5, 0.26, 0.22, 0.21, 90, 450), arc(0.5, 0.72, 0.27, 0.24, -90, 270)],
    9: [arc(0.5, 0.3, 0.25, 0.24, 0, 360), [(0.75, 0.3), (0.7, 0.96)]],
}

# (digit, style, EXIF orientation or None): one image per digit.
PLAN = [
    (0, "drawn", None),
    (1, "photo", None),
    (2, "drawn", None),
    (3, "photo", 6),
    (4, "drawn", None),
    (5, "photo", None),
    (6, "drawn", None),
    (7, "photo", 8),
    (8, "photo", None),
    (9, "drawn", None),
]


def jittered(strokes: list[Stroke], rng: np.random.Generator, amount: float) -> list[Stroke]:
    """The strokes with a smooth random wobble, a random slant and aspect (a hand is not exact)."""
    slant, squeeze = rng.uniform(-0.15, 0.15), rng.uniform(0.85, 1.1)
    result = []
    for stroke in strokes:
        points = np.array(stroke)
        wobble = np.cumsum(rng.normal(0, amount, points.shape), axis=0) * 0.5
        points = points + wobble
        points[:, 0] = 0.5 + (points[:, 0] - 0.5) * squeeze + slant * (0.5 - points[:, 1])
        result.append([(float(x), float(y)) for x, y in points])
    return result


def draw_strokes(
    strokes: list[Stroke], size: tuple[int, int], box: tuple[int, int, int, int], width: int
) -> Image.Image:
    """A white-on-black mask (mode "L") of the strokes in the pixel box (left, top, w, h)."""
    mask = Image.new("L", size, 0)
    pen = ImageDraw.Draw(mask)
    left, top, box_width, box_height = box
    for stroke in strokes:
        points = [(left + x * box_width, top + y * box_height) for x, y in stroke]
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            r = width / 2
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return mask


def drawn(digit: int, rng: np.random.Generator) -> Image.Image:
    """Black strokes on a white 280x280 canvas, like the book's draw page."""
    strokes = jittered(DIGITS[digit], rng, 0.01)
    side = 280
    height = int(rng.uniform(170, 220))
    left, top = int(rng.uniform(60, 110)), int(rng.uniform(20, side - height - 20))
    mask = draw_strokes(strokes, (side, side), (left, top, int(height * 0.6), height), 18)
    mask = mask.filter(ImageFilter.GaussianBlur(0.7))  # the canvas's antialiasing
    return Image.fromarray(255 - np.asarray(mask))


def photo(digit: int, rng: np.random.Generator) -> Image.Image:
    """A pen digit on paper, photographed: 640x480, lighting, tint, noise, blur, rotation."""
    strokes = jittered(DIGITS[digit], rng, 0.015)
    width, height = 640, 480
    digit_height = int(rng.uniform(170, 260))
    left = int(rng.uniform(60, width - 0.6 * digit_height - 60))
    top = int(rng.uniform(30, height - digit_height - 30))
    mask = draw_strokes(
        strokes, (width, height), (left, top, int(digit_height * 0.6), digit_height), 16
    )
    mask = mask.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR)
    mask = mask.filter(ImageFilter.GaussianBlur(1.6))  # focus and the pen's bleed
    ink = np.asarray(mask, dtype=np.float64) / 255 * rng.uniform(0.7, 0.85)
    rows, columns = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    light = 205 + 35 * (columns - rng.uniform(0.3, 0.7)) + 20 * (rows - 0.5)
    light -= 12 * np.exp(-(((columns - rng.uniform()) ** 2 + (rows - rng.uniform()) ** 2) / 0.08))
    paper = light[..., None] * np.array([1.0, 0.97, 0.9])  # warm paper under a warm lamp
    pen = np.array([30.0, 35.0, 70.0])  # blue-black ballpoint
    rgb = paper * (1 - ink[..., None]) + pen * ink[..., None]
    rgb += rng.normal(0, 5, rgb.shape)
    return Image.fromarray(np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8))


def encoded(image: Image.Image, style: str, orientation: int | None) -> tuple[str, bytes]:
    """The file's extension and bytes: PNG for drawings, JPEG (EXIF if turned) for photos."""
    buffer = io.BytesIO()
    if style == "drawn":
        image.save(buffer, "PNG", optimize=True)
        return "png", buffer.getvalue()
    exif = Image.Exif()
    if orientation == 6:  # displayed turned 90° clockwise: stored turned anticlockwise
        image = image.transpose(Image.Transpose.ROTATE_90)
    elif orientation == 8:
        image = image.transpose(Image.Transpose.ROTATE_270)
    if orientation:
        exif[ORIENTATION] = orientation
    image.save(buffer, "JPEG", quality=88, exif=exif)
    return "jpg", buffer.getvalue()


def make_samples() -> dict[str, bytes]:
    """Every sample file, by name: ``{digit}_{style}.{png|jpg}``."""
    rng = np.random.default_rng(SEED)
    files = {}
    for digit, style, orientation in PLAN:
        image = drawn(digit, rng) if style == "drawn" else photo(digit, rng)
        extension, content = encoded(image, style, orientation)
        files[f"{digit}_{style}.{extension}"] = content
    return files


def main(argv: list[str] | None = None) -> int:
    """Write the samples, or with ``--check`` compare them with the files in the folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    arguments = parser.parse_args(argv)
    files = make_samples()
    if arguments.check:
        differ = [
            name
            for name, content in files.items()
            if not (SAMPLES / name).is_file() or (SAMPLES / name).read_bytes() != content
        ]
        for name in differ:
            print(f"differs from a rerun: {name}", file=sys.stderr)
        return 1 if differ else 0
    SAMPLES.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (SAMPLES / name).write_bytes(content)
        digest = hashlib.sha256(content).hexdigest()[:12]
        print(f"{name}  {len(content):>7,} bytes  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
