"""The recipes on MNIST test digits made into photos of hard kinds: not the 70 real digits' own.

The real-digit set (``benchmarks/real_digits.py``) has five writers; the recipe must serve
handwriting in general. This benchmark pastes MNIST test digits (never seen in training) into
synthetic photos, one hard condition at a time, and counts what a model reads after each recipe:

``plain``     light or mid-gray paper, ink 40 to 180 levels darker, sensor noise, any size;
``thin``      the strokes worn down (a ballpoint); ``thick`` widened (a marker);
``dark``      light ink on a dark board;
``shadow``    a shadow's edge across the page, sharp or soft;
``gradient``  light falling off across the page;
``ruled``     ruled lines every 25 to 45 pixels, through the digit.

::

    python benchmarks/synthetic_photos.py --model _build/real-digits-models/cnn-all.model

(the CNN the real-digit benchmark trained and cached; any course model file works).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from checks.own_digit.dataset import mnist_dataset
from checks.own_digit.models import features, load_model
from checks.own_digit.preprocess import NoDigitFound, to_mnist

CONDITIONS = ("plain", "thin", "thick", "dark", "shadow", "gradient", "ruled")


def photo(digit: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit (white on black) as a photo of one hard kind: uint8 gray (H, W)."""
    scale = rng.uniform(4, 12)
    side = int(28 * scale)
    big = np.asarray(Image.fromarray(digit).resize((side, side), Image.BILINEAR), float) / 255
    if condition == "thin":
        big = ndimage.grey_erosion(big, size=(int(scale * 0.8),) * 2)
    if condition == "thick":
        big = ndimage.grey_dilation(big, size=(int(scale * 1.2),) * 2)
    height, width = side + rng.integers(40, 300), side + rng.integers(40, 300)
    dark = condition == "dark"
    paper = rng.uniform(10, 60) if dark else rng.uniform(90, 240)
    contrast = rng.uniform(80, 200) if dark else rng.uniform(40, 180)
    page = np.full((height, width), paper)
    if condition == "shadow":
        columns = np.linspace(0, 1, width)[None, :]
        page = ndimage.gaussian_filter(
            page - 60 * (columns < rng.uniform(0.2, 0.6)), rng.uniform(0, 15)
        )
    if condition == "gradient":
        page = page + np.linspace(-40, 40, width)[None, :] + np.linspace(-20, 20, height)[:, None]
    top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    page[top : top + side, left : left + side] += (1 if dark else -1) * contrast * big
    if condition == "ruled":
        for row in range(int(rng.integers(10, 30)), height, int(rng.integers(25, 45))):
            page[row : row + 2] = np.minimum(page[row : row + 2], paper - rng.uniform(30, 80))
    page += rng.normal(0, rng.uniform(2, 8), page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    """Read the synthetic photos with a model, after each recipe; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a course model file")
    parser.add_argument("--n", type=int, default=300, help="MNIST test digits per condition")
    parser.add_argument("--conditions", nargs="+", choices=CONDITIONS, default=list(CONDITIONS))
    arguments = parser.parse_args(argv)
    model = load_model(arguments.model)
    data = mnist_dataset(limit=10_000)
    digits, labels = data["X_test"][: arguments.n], data["y_test"][: arguments.n]
    print(f"{model.metadata['kind']} on {arguments.n} MNIST test digits per condition\n")
    print("| condition | classic recipe | the course's recipe |\n|---|---|---|")
    for number, condition in enumerate(arguments.conditions):
        right = {}
        for recipe in ("classic", "robust"):
            rng = np.random.default_rng(1000 + number)  # the same photos for both recipes
            seen = []
            for digit in digits:
                try:
                    seen.append(to_mnist(photo(digit, condition, rng), recipe=recipe))
                except NoDigitFound:
                    seen.append(np.zeros((28, 28), dtype=np.uint8))  # refused: wrong
            right[recipe] = np.mean(model.estimator.predict(features(np.array(seen))) == labels)
        print(f"| {condition} | {right['classic']:.1%} | {right['robust']:.1%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
