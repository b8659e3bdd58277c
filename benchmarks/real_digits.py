"""How well the course reads real digits by people: per writer and kind, each model and recipe.

Reads the real-digit development set beside the repository (``../shared/data/real-digits``: phone
photos of digits on paper and drawings made in canvas apps, by several writers; its ``labels.csv``
gives each file's digit and kind). The images are never copied into the repository: they have no
licence to be redistributed. Each image is made 28x28 three ways, ``plain`` (only resized:
``plain_resize``), ``classic`` (a global threshold, then MNIST's steps: the course's first recipe)
and ``robust`` (the course's recipe, ``to_mnist``), and each model reads them::

    MNIST_DATA_DIR=... python benchmarks/real_digits.py                      # every model
    MNIST_DATA_DIR=... python benchmarks/real_digits.py --models forest cnn  # some
    MNIST_DATA_DIR=... python benchmarks/real_digits.py --figure 3_abhighule_1.jpg

The scikit-learn models are trained on ``--limit`` images drawn as ``mnist-digit train --limit``
draws them (20,000 by default, as issue 26's forest); the CNN on all of MNIST's training images,
as ``mnist-digit train --model cnn`` does (``cnn-no-augment``: without moving the images at random
at each epoch). Trained models are kept in ``--cache`` (under ``_build/``) and reused. It prints
Markdown tables: right answers per writer and per kind, for each model and recipe, then a summary;
``--figure`` draws both recipes' steps on one real image into ``_build/real-digits/`` (not for
the published book: the images have no licence).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from checks.own_digit.dataset import mnist_dataset
from checks.own_digit.models import (
    SKLEARN_KINDS,
    TrainedModel,
    features,
    load_model,
    save_model,
    train_model,
)
from checks.own_digit.preprocess import (
    NoDigitFound,
    plain_resize,
    preprocess_steps,
    to_mnist,
)

ROOT = Path(__file__).resolve().parent.parent
REAL_DIGITS = ROOT.parent / "shared" / "data" / "real-digits"
RECIPES = ("plain", "classic", "robust")
MODELS = (*SKLEARN_KINDS, "cnn", "cnn-no-augment")
DEFAULT_MODELS = ("forest", "extra-trees", "sgd", "mlp", "svm", "voting", "cnn", "cnn-no-augment")


def read_set(folder: Path) -> list[dict[str, object]]:
    """The set's images: ``file`` (a path), ``label``, ``kind`` and ``writer`` (from the name).

    Parameters
    ----------
    folder : pathlib.Path
        A folder with ``labels.csv`` (``file,label,kind``) and the images.

    Returns
    -------
    list of dict
        One per image, in the file's order.
    """
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise SystemExit(f"no real-digit set in {folder} (labels.csv is missing)")
    with labels.open(newline="", encoding="utf-8") as opened:
        rows = list(csv.DictReader(opened))
    return [
        {
            "file": folder / row["file"],
            "label": int(row["label"]),
            "kind": row["kind"],
            "writer": row["file"].split("_")[1],
        }
        for row in rows
    ]


def seen_by_models(images: list[dict[str, object]], recipe: str) -> tuple[np.ndarray, list[str]]:
    """Each image as a model sees it under ``recipe``; a refused image is all black.

    Returns
    -------
    tuple of (numpy.ndarray, list of str)
        The 28x28 images (N, 28, 28) and one line per refused image.
    """
    seen, refused = [], []
    for image in images:
        try:
            if recipe == "plain":
                seen.append(plain_resize(image["file"]))
            else:
                seen.append(to_mnist(image["file"], recipe=recipe))
        except NoDigitFound as error:
            refused.append(f"{Path(image['file']).name}: {error}")
            seen.append(np.zeros((28, 28), dtype=np.uint8))
    return np.array(seen), refused


def trained_model(name: str, limit: int, cnn_limit: int | None, cache: Path) -> TrainedModel:
    """A model trained as the module's description says, from the cache when it is there."""
    kind = "cnn" if name.startswith("cnn") else name
    size = cnn_limit if kind == "cnn" else limit
    path = cache / f"{name}-{size or 'all'}.model"
    if path.is_file():
        return load_model(path)
    data = mnist_dataset()
    if size and size < len(data["X_train"]):  # as mnist-digit train --limit draws them
        chosen = np.random.default_rng(42).choice(len(data["X_train"]), size, replace=False)
        data["X_train"], data["y_train"] = data["X_train"][chosen], data["y_train"][chosen]
    options = {"augment": name != "cnn-no-augment"} if kind == "cnn" else {"n_jobs": -1}
    trained = train_model(kind, data, log=print if kind == "cnn" else None, **options)
    cache.mkdir(parents=True, exist_ok=True)
    save_model(path, trained)
    return trained


def table(
    images: list[dict[str, object]], right: dict[str, np.ndarray], groups: tuple[str, ...]
) -> str:
    """A Markdown table: right answers per writer, per kind and in all, one column per recipe."""
    lines = [f"| {' / '.join(groups)} | n | " + " | ".join(right) + " |"]
    lines.append("|---|---|" + "---|" * len(right))
    keys = {group: sorted({str(image[group]) for image in images}) for group in groups}
    for group in groups:
        for value in keys[group]:
            chosen = np.array([image[group] == value for image in images])
            cells = [f"{int(r[chosen].sum())} ({r[chosen].mean():.0%})" for r in right.values()]
            lines.append(f"| {value} | {int(chosen.sum())} | " + " | ".join(cells) + " |")
    cells = [f"**{int(r.sum())} ({r.mean():.1%})**" for r in right.values()]
    lines.append(f"| all | {len(images)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(image: Path, out: Path) -> Path:
    """Both recipes' steps on one image, one row each, into ``out`` (a PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {recipe: preprocess_steps(image, recipe=recipe) for recipe in ("classic", "robust")}
    columns = max(len(steps) for steps in rows.values())
    fig, axes = plt.subplots(2, columns, figsize=(2 * columns, 4.8), squeeze=False)
    for row, (recipe, steps) in zip(axes, rows.items(), strict=True):
        for ax in row:
            ax.axis("off")
        for ax, (name, values) in zip(row, steps.items(), strict=False):
            ax.imshow(values, cmap="gray")
            ax.set_title(f"{recipe}: {name}\n{values.shape[0]}x{values.shape[1]}", fontsize=8)
    fig.suptitle(f"{image.name}: the classic recipe (top) and the course's (bottom)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    """Read the set with each model and recipe; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REAL_DIGITS, help="the real-digit folder")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(DEFAULT_MODELS))
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--limit", type=int, default=20_000, help="scikit-learn's training size")
    parser.add_argument("--cnn-limit", type=int, default=None, help="the CNN's (default: all)")
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / "real-digits-models")
    parser.add_argument("--json", type=Path, help="also write every prediction to this file")
    parser.add_argument("--figure", metavar="FILE", help="draw the recipes' steps on this image")
    arguments = parser.parse_args(argv)

    images = read_set(arguments.data)
    if arguments.figure:
        out = ROOT / "_build" / "real-digits" / f"recipe_{Path(arguments.figure).stem}.png"
        print(f"wrote {figure(arguments.data / arguments.figure, out)}")
    labels = np.array([image["label"] for image in images])
    seen, seconds = {}, {}
    for recipe in arguments.recipes:
        started = time.perf_counter()
        seen[recipe], refused = seen_by_models(images, recipe)
        seconds[recipe] = time.perf_counter() - started
        for line in refused:
            print(f"{recipe} refuses {line}")
    writers = sorted({str(image["writer"]) for image in images})
    print(
        f"{len(images)} real digits by {len(writers)} writers ({', '.join(writers)}); "
        + ", ".join(f"{recipe} {seconds[recipe]:.1f} s" for recipe in arguments.recipes)
    )
    summary, record = [], {"files": [Path(str(i["file"])).name for i in images], "models": {}}
    for name in arguments.models:
        started = time.perf_counter()
        trained = trained_model(name, arguments.limit, arguments.cnn_limit, arguments.cache)
        took = time.perf_counter() - started
        right, predictions = {}, {}
        for recipe, images28 in seen.items():
            predicted = np.asarray(trained.estimator.predict(features(images28))).astype(int)
            right[recipe] = predicted == labels
            predictions[recipe] = predicted.tolist()
        metadata = trained.metadata
        print(
            f"\n### {name}: trained on {metadata['training_size']:,} images in "
            f"{metadata['training_seconds']:.0f} s (here {took:.0f} s, cached when short), MNIST "
            f"test accuracy {metadata['test_accuracy']:.4f}\n"
        )
        print(table(images, right, ("writer", "kind")), flush=True)
        summary.append((name, right))
        record["models"][name] = {"metadata": metadata, "predictions": predictions}
    print("\n### Summary: right answers of", len(images), "\n")
    print("| model | " + " | ".join(arguments.recipes) + " |")
    print("|---|" + "---|" * len(arguments.recipes))
    for name, right in summary:
        cells = [f"{int(r.sum())} ({r.mean():.1%})" for r in right.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if arguments.json:
        record["labels"] = labels.tolist()
        arguments.json.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
