"""Score flags graded on labels the run never sees: MNIST dealt again, its scored labels withheld.

A score flag's predictions are judged against labels. If a submission's run could read them
(``y_test``, the label files, :func:`checks.kaggle.kaggle_test_labels`, or its own record file
written by hand), it could pass them off as its predictions. So, for a chapter with score flags,
the grader deals MNIST again before any run, with a secret seed of its own:

- the images of the label set the chapter's score flags name (MNIST's 10,000 test images, or
  the 28,000 rows of chapter 9's ``test.csv``) are shuffled among their own places: the run gets
  the same images, in an order it cannot know;
- their labels in the run's files are *withheld*: replaced by a shuffled copy of themselves
  (decoys with the same digit counts, so code still runs and prints plausible numbers);
- every other image and label stays where MNIST has it, so exact flags (which never depend on
  those labels) keep their answers and are judged against the answer keys as before.

The true labels, in the order the run sees the images, stay in the grader's process
(:attr:`Withheld.labels`): the recorded predictions are scored against them outside the run.
The dealt files carry a manifest of their digests (:data:`checks.mnist.DEALT_MANIFEST`), so
:func:`checks.fetch_mnist` in the run verifies them as it verifies the original files.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from checks.catalogue import LABEL_SETS, chapter_flags
from checks.kaggle import split as kaggle_split
from checks.mnist import (
    DEALT_MANIFEST,
    IDX_FILES,
    N_TEST,
    N_TRAIN,
    parse_idx,
    read_idx_folder,
    to_idx,
)


def _mnist_test_positions() -> np.ndarray:
    return np.arange(N_TRAIN, N_TRAIN + N_TEST)


def _kaggle_test_positions() -> np.ndarray:
    return np.asarray(kaggle_split()[1])


#: Label set -> the positions of its images in :func:`checks.fetch_mnist`'s order, in the label
#: set's own order (item ``i`` of the label set is image ``positions[i]``).
POSITIONS: dict[str, Callable[[], np.ndarray]] = {
    "mnist_test": _mnist_test_positions,
    "kaggle_test": _kaggle_test_positions,
}
if set(POSITIONS) != set(LABEL_SETS):  # an author's error: a label set the grader cannot deal
    raise RuntimeError(f"label sets {sorted(LABEL_SETS)} and positions {sorted(POSITIONS)} differ")


@dataclass(frozen=True)
class Withheld:
    """MNIST dealt for one label set: the run's folder, and the labels kept outside every run."""

    label_set: str
    folder: Path  # the dealt IDX files and their manifest, copied into each run
    labels: np.ndarray  # the true labels of the label set, in the order the run sees its images

    def loader(self) -> Callable[[], np.ndarray]:
        """The labels, as a :class:`checks.judge.Standard` takes them."""
        return lambda: self.labels


def deal(
    raw: dict[str, bytes], label_set: str, rng: np.random.Generator
) -> tuple[dict[str, bytes], np.ndarray]:
    """MNIST's files with ``label_set``'s images shuffled among their places, labels withheld.

    Parameters
    ----------
    raw : dict of str to bytes
        The four verified IDX files (:func:`checks.mnist.read_idx_folder`).
    label_set : str
        A key of :data:`POSITIONS`.
    rng : numpy.random.Generator
        The secret source of the shuffles.

    Returns
    -------
    dealt : dict of str to bytes
        The four IDX files the run gets.
    labels : numpy.ndarray
        The true labels of the label set in the run's order, dtype int64 (never written).
    """
    images = np.concatenate([parse_idx(raw["train_images"]), parse_idx(raw["test_images"])])
    labels = np.concatenate([parse_idx(raw["train_labels"]), parse_idx(raw["test_labels"])])
    positions = POSITIONS[label_set]()
    drawn = positions[rng.permutation(len(positions))]
    truth = labels[drawn].astype(np.int64)
    images[positions] = images[drawn]
    labels[positions] = rng.permutation(labels[drawn])  # decoys: the same digits, shuffled
    dealt = {
        "train_images": to_idx(images[:N_TRAIN]),
        "train_labels": to_idx(labels[:N_TRAIN]),
        "test_images": to_idx(images[N_TRAIN:]),
        "test_labels": to_idx(labels[N_TRAIN:]),
    }
    truth.setflags(write=False)
    return dealt, truth


def write_dealt(dealt: dict[str, bytes], folder: Path, label_set: str) -> Path:
    """Write the dealt IDX files and their manifest into ``folder``; return it."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    for key, spec in IDX_FILES.items():
        (folder / spec.name).write_bytes(dealt[key])
    manifest = {
        "withheld": label_set,
        "sha256": {key: hashlib.sha256(content).hexdigest() for key, content in dealt.items()},
    }
    (folder / DEALT_MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


def prepare_withheld(mnist_dir: Path, target: Path, seed: int | None = None) -> dict[str, Withheld]:
    """Deal MNIST once per label set any score flag names; each kept in ``target``.

    Parameters
    ----------
    mnist_dir : Path
        The original MNIST files (:func:`checks.grading.contained_run.prepare_mnist`).
    target : Path
        A folder of the grader's, never a run's.
    seed : int, optional
        The secret seed; by default a fresh one from :mod:`secrets` (tests pass their own).

    Returns
    -------
    dict of str to Withheld
        By label set.
    """
    raw = read_idx_folder(mnist_dir)
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    withheld = {}
    for label_set in LABEL_SETS:
        dealt, truth = deal(raw, label_set, rng)
        folder = write_dealt(dealt, target / label_set, label_set)
        withheld[label_set] = Withheld(label_set, folder, truth)
    return withheld


def chapter_label_set(chapter: int) -> str | None:
    """The label set a chapter's score flags are judged against, or None without score flags.

    Raises
    ------
    RuntimeError
        If its score flags name more than one (one run can withhold only one).
    """
    names = {flag.labels for flag in chapter_flags(chapter) if flag.kind == "score"}
    if len(names) > 1:
        raise RuntimeError(f"chapter {chapter}'s score flags name several label sets: {names}")
    return next(iter(names), None)
