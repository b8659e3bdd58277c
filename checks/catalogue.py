"""The flag catalogue: what each graded checkpoint asks for, how many points it is worth.

It is the one home of what a flag is: the flags of ``flags.toml``, and what a score flag may name,
:data:`METRICS` and :data:`LABEL_SETS` (each label set's size and description). It imports no
data module: :mod:`checks.scoring` binds each label set to the function that loads its labels.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

KINDS = ("integer", "float", "string", "array", "score")
#: The fields a score flag must have, and only a score flag may have.
SCORE_FIELDS = ("metric", "threshold", "labels")
#: The metrics a score flag may name (their functions: :data:`checks.judge.METRIC_FUNCTIONS`).
#: ``gain_over_members``: the answer is a table of predictions, the ensemble's row first, then a
#: row per member; the score is the ensemble's accuracy minus its best member's (at least 95 %).
METRICS = ("accuracy", "gain_over_members")
#: Metrics whose answer is a table of predictions (a row per model), not one row.
TABLE_METRICS = ("gain_over_members",)
#: How many members such a table may have after its first row (the ensemble's).
MEMBER_ROWS = (1, 10)


@dataclass(frozen=True)
class LabelSet:
    """Labels a score flag's predictions are judged against: what they are, not how they load."""

    description: str
    size: int
    #: Whether predictions may also come as a Kaggle submission file ``ImageId,Label`` (a path)
    #: or DataFrame, read by :func:`checks.submission.read_submission` when checked.
    submission: bool = False


#: Label set name -> what it is. :data:`checks.scoring.LOADERS` loads each one's labels.
LABEL_SETS: dict[str, LabelSet] = {
    "mnist_test": LabelSet("MNIST's 10,000 test images", 10_000),
    # 28,000: the rows of the Kaggle-style test.csv (checks.kaggle.N_TEST_ROWS).
    "kaggle_test": LabelSet(
        "the 28,000 images of the Kaggle-style test.csv, in its order", 28_000, submission=True
    ),
}


@dataclass(frozen=True)
class Flag:
    """One graded checkpoint."""

    id: str
    title: str
    points: int
    kind: str
    hint: str
    decimals: int | None = None
    shape: tuple[int, ...] | None = None
    metric: str | None = None  # score flags: a name in METRICS
    threshold: float | None = None  # score flags: captured at or above it
    labels: str | None = None  # score flags: a name in LABEL_SETS

    @property
    def keyed(self) -> bool:
        """Whether the flag has an answer key: every flag but a score flag, judged by its score."""
        return self.kind != "score"

    @property
    def chapter(self) -> int:
        """The chapter number, the part of the id before the dot."""
        return int(self.id.split(".")[0])

    @property
    def heading(self) -> str:
        """How the flag is named wherever it is shown: ``Flag 2.1 – Title (15 pts)``."""
        return f"Flag {self.id} \N{EN DASH} {self.title} ({self.points} pts)"

    def describe_expected(self) -> str:
        """Say in words what kind of value the flag expects."""
        if self.kind == "integer":
            return "a whole number"
        if self.kind == "float":
            return f"a number (it is compared rounded to {self.decimals} decimals)"
        if self.kind == "string":
            return "a string"
        if self.kind == "score" and self.metric in TABLE_METRICS:
            label_set = LABEL_SETS[self.labels or ""]
            return (
                f"a table of predictions for {label_set.description}: the ensemble's row first, "
                f"then one row per member ({MEMBER_ROWS[0]} to {MEMBER_ROWS[1]}), each row "
                f"{label_set.size:,} digit labels ('0' to '9', or 0 to 9)"
            )
        if self.kind == "score":
            label_set = LABEL_SETS[self.labels or ""]
            also = (
                " (or a submission: the path of a CSV file ImageId,Label, or such a DataFrame)"
                if label_set.submission
                else ""
            )
            return (
                f"predictions for {label_set.description}: {label_set.size:,} digit labels "
                f"('0' to '9', or 0 to 9), one per image{also}"
            )
        return f"an array of whole numbers of shape {self.shape}"


class UnknownFlag(KeyError):
    """No flag has this id."""

    def __str__(self) -> str:
        """Name the unknown id and list the valid ones."""
        return f"there is no flag {self.args[0]!r}; valid ids are {', '.join(flags())}"


@dataclass(frozen=True)
class Catalogue:
    """All flags, in course order, and the chapter titles."""

    flags: dict[str, Flag]
    chapters: dict[int, str]


def _parse_flag(entry: dict) -> Flag:
    flag = Flag(
        id=str(entry["id"]),
        title=entry["title"],
        points=int(entry["points"]),
        kind=entry["kind"],
        hint=entry["hint"],
        decimals=entry.get("decimals"),
        shape=tuple(entry["shape"]) if "shape" in entry else None,
        metric=entry.get("metric"),
        threshold=entry.get("threshold"),
        labels=entry.get("labels"),
    )
    if flag.kind not in KINDS:
        raise ValueError(f"flag {flag.id}: kind must be one of {KINDS}, not {flag.kind!r}")
    if (flag.kind == "float") != (flag.decimals is not None):
        raise ValueError(
            f"flag {flag.id}: 'decimals' is required for float flags and only for them"
        )
    if (flag.kind == "array") != (flag.shape is not None):
        raise ValueError(f"flag {flag.id}: 'shape' is required for array flags and only for them")
    _check_score_fields(flag, entry)
    return flag


def _check_score_fields(flag: Flag, entry: dict) -> None:
    """A score flag names a known metric and label set and a finite threshold; no other flag may."""
    present = [name for name in SCORE_FIELDS if name in entry]
    if flag.kind != "score":
        if present:
            raise ValueError(f"flag {flag.id}: {', '.join(present)} only for score flags")
        return
    missing = [name for name in SCORE_FIELDS if name not in entry]
    if missing:
        raise ValueError(f"flag {flag.id}: a score flag needs {', '.join(missing)}")
    if flag.metric not in METRICS:
        raise ValueError(f"flag {flag.id}: metric must be one of {METRICS}")
    if flag.labels not in LABEL_SETS:
        raise ValueError(f"flag {flag.id}: labels must be one of {tuple(LABEL_SETS)}")
    threshold = flag.threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ValueError(f"flag {flag.id}: threshold must be a number")
    if not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise ValueError(f"flag {flag.id}: threshold must be in (0, 1], not {threshold}")


@cache
def load_catalogue() -> Catalogue:
    """Read ``flags.toml`` shipped with the package."""
    text = resources.files("checks").joinpath("flags.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    chapters = {int(number): title for number, title in data["chapters"].items()}
    parsed = [_parse_flag(entry) for entry in data["flag"]]
    by_id = {flag.id: flag for flag in parsed}
    if len(by_id) != len(parsed):
        raise ValueError("flags.toml lists the same flag id twice")
    for flag in parsed:
        if flag.chapter not in chapters:
            raise ValueError(f"flag {flag.id}: chapter {flag.chapter} has no title in [chapters]")
    return Catalogue(flags=by_id, chapters=chapters)


def flags() -> dict[str, Flag]:
    """Every flag, by id, in course order."""
    return load_catalogue().flags


def chapter_flags(chapter: int) -> list[Flag]:
    """The flags of one chapter, in course order."""
    return [flag for flag in flags().values() if flag.chapter == chapter]


def get_flag(flag_id: object) -> Flag:
    """Return the flag with this id (``"1.1"``; a float such as ``1.1`` is accepted too)."""
    key = str(flag_id).strip()
    try:
        return flags()[key]
    except KeyError:
        raise UnknownFlag(key) from None
