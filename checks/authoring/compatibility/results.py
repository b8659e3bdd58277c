"""What the solutions answered in each environment, and the local file of those results.

The results file holds plain canonical answers, so it lives in the user's cache folder, never in
the repository: ``<course cache>/compat/results.json``. It lets the committed outputs be rebuilt
without executing anything (``python -m checks compat --from-results``). Executing the solutions
is :mod:`checks.authoring.compatibility.runs`'.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checks.authoring.compatibility.declared import Environment
from checks.files import atomic_write_text
from checks.layout import cache_dir


@dataclass(frozen=True)
class EnvironmentResult:
    """What the solutions answered in one environment."""

    environment: Environment
    answers: dict[str, str]  # flag id -> canonical answer text
    failures: dict[str, str] = field(default_factory=dict)  # notebook -> last lines of its error
    seconds: float = 0.0
    date: str = ""
    chapter_seconds: dict[str, float] = field(default_factory=dict)  # chapter -> its run's seconds

    def merged_into(
        self, earlier: EnvironmentResult | None, chapters: list[int]
    ) -> EnvironmentResult:
        """Merge this run of ``chapters`` with ``earlier``'s answers to every other chapter.

        The seconds are the sum over the chapters of their last runs; an earlier result that
        does not time its chapters one by one cannot be merged (run every chapter again).
        """
        if earlier is None or earlier.environment != self.environment:
            return self
        if not earlier.chapter_seconds:
            raise ValueError(
                f"{self.environment.name}: the earlier run does not time its chapters one by one; "
                "run every chapter once without --chapters"
            )
        kept = [str(c) for c in map(int, earlier.chapter_seconds) if c not in chapters]
        answers = {
            flag_id: answer
            for flag_id, answer in earlier.answers.items()
            if int(flag_id.split(".")[0]) not in chapters
        }
        failures = {
            name: error
            for name, error in earlier.failures.items()
            if int(name.split("_")[0]) not in chapters
        }
        chapter_seconds = {**{c: earlier.chapter_seconds[c] for c in kept}, **self.chapter_seconds}
        return EnvironmentResult(
            self.environment,
            {**answers, **self.answers},
            {**failures, **self.failures},
            round(sum(chapter_seconds.values()), 1),
            self.date,
            dict(sorted(chapter_seconds.items(), key=lambda item: int(item[0]))),
        )

    def to_json(self) -> dict:
        """Plain JSON data (for the local results file only: it holds answers)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> EnvironmentResult:
        """The inverse of :meth:`to_json`."""
        return cls(
            Environment(**data["environment"]),
            dict(data["answers"]),
            dict(data.get("failures", {})),
            float(data.get("seconds", 0.0)),
            str(data.get("date", "")),
            {str(k): float(v) for k, v in data.get("chapter_seconds", {}).items()},
        )


def default_results_file() -> Path:
    """The local results file: ``<course cache>/compat/results.json``."""
    return cache_dir() / "compat" / "results.json"


def read_results(path: Path) -> dict[str, EnvironmentResult]:
    """Environment name -> its result, from a results file (empty if there is none)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: EnvironmentResult.from_json(entry) for name, entry in data.items()}


def write_results(path: Path, results: dict[str, EnvironmentResult]) -> None:
    """Write the results file (it holds plain answers: keep it out of any repository)."""
    data = {name: result.to_json() for name, result in results.items()}
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
