"""Variants: the answers of the solutions re-run with other parameter values, hashed and cached.

``grade --variant target_digit=3`` re-executes every submission with the chapters' matching
parameters changed (:mod:`checks.grading.parameters`), and judges it against the *solution*
notebook executed with the same values. The grader runs each solution once per variant and
caches the answers as salted hashes only, like ``answer_keys.json``: the expected values never
reach a student kernel, nor the disk in plain text. Each cache entry is signed with the grader's
secret (:mod:`checks.grading.variant_keys`): an entry changed by anyone else is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from checks.answer_keys import load_keys, make_key
from checks.authoring.solution_runs import SolutionFailed, one_answer_per_flag, run_solution
from checks.canonical import read_answer
from checks.catalogue import chapter_flags, get_flag
from checks.files import atomic_write_text
from checks.grading.parameters import chapter_parameters, notebook_parameters
from checks.grading.variant_keys import VariantKeys
from checks.judge import measure
from checks.scoring import loader
from checks.versions import installed_versions


def cache_name(solution: Path, parameters: dict[str, object]) -> str:
    """A file name that changes with the solution, the values and the number-shaping libraries."""
    fingerprint = hashlib.sha256(solution.read_bytes())
    fingerprint.update(json.dumps([parameters, installed_versions()], sort_keys=True).encode())
    return f"{solution.stem}-{fingerprint.hexdigest()[:20]}.json"


def execute_solution(
    solution: Path, chapter: int, parameters: dict[str, object], cell_timeout: int
) -> VariantKeys:
    """Run the solution with ``parameters`` and hash the answers of the chapter's flags.

    A score flag has no key: the solution's score under the variant is kept instead (a score,
    not an answer), the level a submission's score must reach under the variant if it is below
    the flag's threshold.
    """
    expected = [flag.id for flag in chapter_flags(chapter)]
    with tempfile.TemporaryDirectory(prefix="checks-variant-") as scratch:
        records = run_solution(
            solution, Path(scratch), parameters=parameters, cell_timeout=cell_timeout
        )
    try:
        answers = one_answer_per_flag(records, expected)
    except SolutionFailed as error:
        raise SolutionFailed(f"{solution.name} with {parameters}: {error}") from None
    scored = [flag_id for flag_id in expected if get_flag(flag_id).kind == "score"]
    scores = {flag_id: _solution_score(answers[flag_id].value, flag_id) for flag_id in scored}
    canonical = {
        flag_id: answers[flag_id].canonical for flag_id in expected if flag_id not in scores
    }
    default_keys = load_keys()
    unchanged = [
        flag_id
        for flag_id, text in canonical.items()
        if flag_id in default_keys and default_keys[flag_id].matches(flag_id, text)
    ]
    keys = {
        flag_id: make_key(flag_id, text, f"{solution.name} {parameters}")
        for flag_id, text in canonical.items()
    }
    return VariantKeys(parameters, keys, unchanged, scores)


def _solution_score(value: object, flag_id: str) -> float:
    """The score of a solution's predictions for a score flag."""
    flag = get_flag(flag_id)
    answer = read_answer(flag, value)
    return measure(answer, flag.threshold or 0.0, loader(flag.labels or "")).value


def variant_keys(
    solution: Path,
    chapter: int,
    parameters: dict[str, object],
    cache_dir: Path,
    *,
    cell_timeout: int = 600,
    report: Callable[[str], None] = print,
) -> VariantKeys:
    """The hashed answers of ``solution`` under ``parameters``: from the cache, or by running it."""
    cached = cache_dir / cache_name(solution, parameters)
    if cached.is_file():
        try:
            return VariantKeys.from_json(cached.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            report(f"Ignoring the cache file {cached} ({error}); recomputing it.")
    shown = ", ".join(f"{name}={value!r}" for name, value in parameters.items())
    report(f"Running the solution {solution.name} with {shown} (once; the result is cached) ...")
    keys = execute_solution(solution, chapter, parameters, cell_timeout)
    atomic_write_text(cached, keys.to_json())
    return keys


def prepare_variants(
    requested: dict[str, str],
    solutions: dict[int, Path],
    chapters: set[int],
    cache_dir: Path,
    *,
    cell_timeout: int = 600,
    report: Callable[[str], None] = print,
) -> dict[int, VariantKeys]:
    """The hashed answers under the variant of each chapter in ``chapters`` that it touches.

    ``requested`` are the raw ``KEY=VALUE`` texts; ``solutions`` the solution notebooks by
    chapter. A chapter without any of the parameters is judged as submitted only; a flag the
    variant leaves unchanged is reported, since a typed-in answer would still earn it.
    """
    if not solutions:
        raise FileNotFoundError("variants need the solution notebooks, and none were found")
    by_chapter = chapter_parameters(
        requested, {chapter: notebook_parameters(path) for chapter, path in solutions.items()}
    )
    variants = {}
    for chapter in sorted(chapters):
        parameters = by_chapter.get(chapter)
        if not parameters:
            report(
                f"Chapter {chapter} has none of these parameters: its flags are judged as "
                "submitted only."
            )
            continue
        keys = variant_keys(
            solutions[chapter],
            chapter,
            parameters,
            cache_dir,
            cell_timeout=cell_timeout,
            report=report,
        )
        if keys.unchanged:
            report(
                f"Warning: the variant does not change flag(s) {', '.join(keys.unchanged)}: a "
                "hard-coded answer would still earn them. Choose other values to cover them."
            )
        variants[chapter] = keys
    return variants
