"""``python -m checks compat``: run the matrix (or reuse its results) and write its outputs."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from checks.answer_keys import AnswerKey, KeyFileError, keys_path, load_keys, load_version_keys
from checks.authoring.compatibility.declared import load_declaration
from checks.authoring.compatibility.environments import ensure_environment, installed_versions
from checks.authoring.compatibility.matrix import Matrix, compare
from checks.authoring.compatibility.outputs import VERSION_KEYS, planned_outputs
from checks.authoring.compatibility.results import EnvironmentResult, read_results, write_results
from checks.authoring.compatibility.runs import execute_in
from checks.catalogue import Flag, flags
from checks.files import atomic_write_text


class EnvironmentMismatch(RuntimeError):
    """A virtual environment does not hold the versions it was declared with."""


def run_environments(
    root: Path,
    names: list[str] | None,
    results_file: Path,
    *,
    rebuild: bool = False,
    chapters: list[int] | None = None,
    report: Callable[[str], None] = print,
) -> dict[str, EnvironmentResult]:
    """Execute the solutions in each named environment (all when None), one after another.

    Each environment's result is added to ``results_file`` as soon as it is known, so an
    interrupted run keeps what it finished. With ``chapters``, only those chapters' notebooks
    run and the environment's earlier answers to the other chapters are kept. Returns every
    result the file now holds.
    """
    declaration = load_declaration(root)
    expected: dict[int, list[str]] = {}
    for flag in keyed_flags():
        expected.setdefault(flag.chapter, []).append(flag.id)
    results = read_results(results_file)
    for environment in declaration.named(names):
        report(f"Environment {environment.name} ({environment.requirements()}):")
        started = time.perf_counter()
        python = ensure_environment(
            environment, root, declaration.runner, rebuild=rebuild, report=report
        )
        found = installed_versions(python, tuple(environment.versions()))
        if found != environment.versions():
            raise EnvironmentMismatch(f"{environment.name}: installed {found}")
        report(f"  ready in {time.perf_counter() - started:.0f} s")
        with tempfile.TemporaryDirectory(prefix="checks-compat-") as scratch:
            result = execute_in(
                environment,
                python,
                root / "solutions",
                Path(scratch),
                expected,
                chapters=chapters,
                report=report,
            )
        if chapters is not None:
            result = result.merged_into(results.get(environment.name), chapters)
        results[environment.name] = result
        write_results(results_file, results)
        report(f"  {len(result.answers)} answers in {result.seconds / 60:.1f} min")
    return results


def write_matrix(
    root: Path, results: dict[str, EnvironmentResult], report: Callable[[str], None] = print
) -> Matrix:
    """Compare the declared environments' results and write the committed outputs."""
    declaration = load_declaration(root)
    declared = [e for e in declaration.environments if e.name in results]
    current = {e.name: results[e.name] for e in declared if results[e.name].environment == e}
    stale = [e.name for e in declared if e.name not in current]
    if stale:
        report(f"Left out, declared differently since their run: {', '.join(stale)}")
    absent = [e.name for e in declaration.environments if e.name not in results]
    if absent:
        report(f"Not run yet: {', '.join(absent)}")
    matrix = compare(current, declaration.reference, [flag.id for flag in keyed_flags()])
    stale_keys = unmatched_keys(current[declaration.reference.name])
    if stale_keys:
        report(
            f"The reference answers to {', '.join(stale_keys)} are not the answer keys': run "
            "`python -m checks keys`, then this again."
        )
    try:
        existing = load_version_keys(root / VERSION_KEYS)
    except KeyFileError:  # an older format: every key is made anew
        existing = {}
    for path, text in planned_outputs(root, matrix, current, existing).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
            report(f"wrote {path.relative_to(root)}")
    load_version_keys.cache_clear()
    tagged = load_version_keys(root / VERSION_KEYS)
    for name, refused in strict_failures(current, tagged, list(matrix.statuses)).items():
        report(f"Strict mode would refuse in {name}: {', '.join(refused) or 'nothing'}")
    return matrix


def keyed_flags() -> list[Flag]:
    """The flags the matrix covers: those with answer keys (a score flag's answer is a score)."""
    return [flag for flag in flags().values() if flag.keyed]


def unmatched_keys(reference: EnvironmentResult) -> list[str]:
    """The flags whose key in ``answer_keys.json`` is not the reference environment's answer."""
    keys = load_keys(keys_path())
    return [
        flag_id
        for flag_id, answer in reference.answers.items()
        if flag_id not in keys or not keys[flag_id].matches(flag_id, answer)
    ]


def strict_failures(
    results: dict[str, EnvironmentResult],
    tagged: dict[str, dict[str, AnswerKey]],
    flag_ids: list[str] | None = None,
) -> dict[str, list[str]]:
    """Per environment, the flags whose answer there the keys would refuse, as ``check()`` does.

    ``flag_ids`` are the flags the matrix covers (default: every flag with a key).

    ``check()`` judges against the key of the installed scikit-learn series when there is one,
    else against ``answer_keys.json``; an unanswered flag is refused too.
    """
    keys = load_keys(keys_path())
    refused = {}
    for name, result in results.items():
        own = tagged.get(result.environment.minor, {})
        refused[name] = [
            flag_id
            for flag_id in (flag_ids if flag_ids is not None else [f.id for f in keyed_flags()])
            if flag_id not in result.answers
            or not own.get(flag_id, keys[flag_id]).matches(flag_id, result.answers[flag_id])
        ]
    return refused
