"""What the compatibility matrix found, as the student's kernel reads it (no answers in it).

``checks/compatibility.json`` is written by ``python -m checks compat``: for each declared
environment (a scikit-learn release with a NumPy and a SciPy), whether each flag's answer there is
the course's (``same``), another one that the keys carry for that scikit-learn series
(``differs``), or unknown (``unsupported``: the solution does not run there; ``conflict``: the
answer changes in a way the scikit-learn series does not explain).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from checks.layout import package_file

SUMMARY_FILE = "compatibility.json"
SAME, DIFFERS, UNSUPPORTED, CONFLICT = "same", "differs", "unsupported", "conflict"
# The statuses under which a right answer can be refused, as a student sees it.
UNKNOWN_ANSWER = (UNSUPPORTED, CONFLICT)


def series(version: str) -> str:
    """The release series of a version, the tag of answer keys: ``"1.6.1"`` -> ``"1.6"``."""
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class Compatibility:
    """The matrix's findings: environments, each flag's status in each, the shaping libraries."""

    environments: dict[str, dict[str, str]]  # name -> {"scikit-learn": ..., "numpy": ..., ...}
    flags: dict[str, dict[str, str]]  # flag id -> environment name -> status
    shaping: tuple[str, ...]

    def covered_series(self) -> list[str]:
        """The scikit-learn series the matrix ran, oldest first."""
        found = {series(env["scikit-learn"]) for env in self.environments.values()}
        return sorted(found, key=lambda s: tuple(int(part) for part in s.split(".")))

    def statuses_for(self, scikit_learn: str) -> dict[str, str] | None:
        """Each flag's status under ``scikit_learn``'s series (None if the matrix never ran it).

        When several environments share the series, a flag takes its least favourable status.
        """
        names = [
            name
            for name, env in self.environments.items()
            if series(env["scikit-learn"]) == series(scikit_learn)
        ]
        if not names:
            return None
        order = (SAME, DIFFERS, CONFLICT, UNSUPPORTED)
        return {
            flag_id: max((row.get(name, UNSUPPORTED) for name in names), key=order.index)
            for flag_id, row in self.flags.items()
        }

    def sensitive_flags(self) -> list[str]:
        """The flags whose answer is not the same in every environment."""
        return [
            flag_id
            for flag_id, row in self.flags.items()
            if any(status != SAME for status in row.values())
        ]


def summary_path() -> Path:
    """The summary file shipped inside the package."""
    return package_file(SUMMARY_FILE)


@cache
def load_compatibility(path: Path | None = None) -> Compatibility | None:
    """Read the matrix's summary (None when the matrix has never been run)."""
    path = path or summary_path()
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    environments = {
        name: {k: str(v) for k, v in env.items() if k in ("scikit-learn", "numpy", "scipy")}
        for name, env in data["environments"].items()
    }
    return Compatibility(environments, data["flags"], tuple(data["shaping"]))
