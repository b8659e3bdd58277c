"""Compare every environment's answers with the reference's: flag by environment statuses.

A flag is, in one environment:

- ``same``: the reference answer;
- ``differs``: another answer, which the keys carry, tagged with the environment's scikit-learn
  series, so a student on that series is judged against it;
- ``unsupported``: no answer (the solution fails there);
- ``conflict``: another answer that cannot be keyed by the scikit-learn series: the series is the
  reference's (so NumPy or SciPy changed it), or two environments of one series disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from checks.authoring.compatibility.declared import LIBRARIES, Environment
from checks.authoring.compatibility.results import EnvironmentResult
from checks.compatibility import CONFLICT, DIFFERS, SAME, UNSUPPORTED


class MatrixError(ValueError):
    """The results cannot make a matrix (the reference environment has not answered)."""


@dataclass(frozen=True)
class Matrix:
    """The compared results."""

    reference: Environment
    environments: tuple[Environment, ...]
    statuses: dict[str, dict[str, str]]  # flag id -> environment name -> status
    tagged: dict[str, dict[str, str]]  # scikit-learn series -> flag id -> its canonical answer
    shaping: tuple[str, ...]  # the libraries whose version was seen to change an answer
    not_run: tuple[int, ...] = ()  # chapters some environment has not run yet: left out

    def sensitive_flags(self) -> list[str]:
        """The flags whose status is not ``same`` in some environment."""
        return [
            flag_id
            for flag_id, row in self.statuses.items()
            if any(status != SAME for status in row.values())
        ]


def compare(
    results: dict[str, EnvironmentResult], reference: Environment, flag_ids: list[str]
) -> Matrix:
    """The matrix of ``results`` (by environment name) against the ``reference`` environment.

    Raises
    ------
    MatrixError
        When the reference environment has no result or does not answer every flag.
    """
    base = results.get(reference.name)
    if base is None:
        raise MatrixError(
            f"the reference environment {reference.name} has no result: run "
            f"`python -m checks compat --environments {reference.name}`"
        )
    every_chapter = {_chapter(f) for f in flag_ids}
    run_everywhere = every_chapter.intersection(
        *(_chapters_run(result, every_chapter) for result in results.values())
    )
    not_run = tuple(sorted({_chapter(f) for f in flag_ids} - run_everywhere))
    flag_ids = [f for f in flag_ids if _chapter(f) in run_everywhere]
    missing = [f for f in flag_ids if f not in base.answers]
    if missing:
        raise MatrixError(f"the reference environment {reference.name} has no answer to {missing}")
    environments = tuple(result.environment for result in results.values())
    statuses: dict[str, dict[str, str]] = {}
    tagged: dict[str, dict[str, str]] = defaultdict(dict)
    for flag_id in flag_ids:
        expected = base.answers[flag_id]
        by_series: dict[str, set[str]] = defaultdict(set)
        for result in results.values():
            if flag_id in result.answers:
                by_series[result.environment.minor].add(result.answers[flag_id])
        row = {}
        for result in results.values():
            environment, answer = result.environment, result.answers.get(flag_id)
            if answer is None:
                row[environment.name] = UNSUPPORTED
            elif answer == expected:
                row[environment.name] = SAME
            elif environment.minor == reference.minor or len(by_series[environment.minor]) > 1:
                row[environment.name] = CONFLICT
            else:
                row[environment.name] = DIFFERS
                tagged[environment.minor][flag_id] = answer
        statuses[flag_id] = row
    shaping = _shaping(statuses, environments, reference)
    return Matrix(reference, environments, statuses, dict(tagged), shaping, not_run)


def _chapter(flag_id: str) -> int:
    return int(flag_id.split(".")[0])


def _chapters_run(result: EnvironmentResult, every_chapter: set[int]) -> set[int]:
    """The chapters an environment ran: those it timed one by one (an older result: all)."""
    if result.chapter_seconds:
        return {int(chapter) for chapter in result.chapter_seconds}
    return every_chapter


def _shaping(
    statuses: dict[str, dict[str, str]],
    environments: tuple[Environment, ...],
    reference: Environment,
) -> tuple[str, ...]:
    """Libraries seen to change an answer.

    Each library differing from the reference in an environment where some flag is neither
    ``same`` nor ``unsupported``; an environment of another scikit-learn version blames it alone.
    """
    changed = {
        environment.name
        for environment in environments
        if any(row.get(environment.name) in (DIFFERS, CONFLICT) for row in statuses.values())
    }
    found = set()
    for environment in environments:
        if environment.name not in changed:
            continue
        differing = [
            name for name in LIBRARIES if environment.versions()[name] != reference.versions()[name]
        ]
        if environment.scikit_learn != reference.scikit_learn:
            differing = ["scikit-learn"]  # the series explains it; keyed by series
        found.update(differing)
    return tuple(name for name in LIBRARIES if name in found)
