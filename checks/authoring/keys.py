"""Make the answer keys by executing the solution notebooks: answers are computed, never typed.

Each solution notebook runs in a child kernel in record mode (:mod:`checks.recording`), so every
``checks.check(flag, value)`` writes the value to a scratch file, and every
``checks.mistake(flag, value, hint)`` (a declared wrong way to compute the flag) to another. The
answers and the mistakes are then hashed (:mod:`checks.answer_keys`) into
``checks/answer_keys.json``; the scratch folder is deleted. A mistake whose value the checker
could not tell from the right answer, or from another mistake of the flag, is refused.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from checks.answer_keys import (
    AnswerKey,
    KeyFileError,
    Mistake,
    dump_keys,
    keys_path,
    load_keys,
    load_mistakes,
    make_key,
)
from checks.authoring.solution_runs import (
    SolutionFailed,
    one_answer_per_flag,
    record_solution_seconds,
    run_solution,
)
from checks.canonical import BadAnswer, candidates
from checks.catalogue import UnknownFlag, flags, get_flag
from checks.files import atomic_write_text
from checks.layout import chapter_notebooks
from checks.recording import MISTAKES_FILE, RecordedAnswer, RecordedMistake, read_mistakes


class MistakeRefused(SolutionFailed):
    """A declared mistake cannot be told from the right answer or from another mistake."""


def execute_solutions(
    solutions: list[Path],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    report: Callable[[str], None] = print,
    seconds: dict[str, float] | None = None,
) -> tuple[list[RecordedAnswer], list[RecordedMistake]]:
    """Run each solution notebook in a folder of ``workdir``; return its answers and mistakes.

    ``seconds``, if given, receives each notebook's run time by its name's stem. Raises
    :class:`~checks.authoring.solution_runs.SolutionFailed` if one fails.
    """
    records: list[RecordedAnswer] = []
    mistakes: list[RecordedMistake] = []
    for notebook in solutions:
        started = time.perf_counter()
        report(f"Executing {notebook.name} ...")
        records += run_solution(notebook, workdir / notebook.stem, env=env)
        mistakes += read_mistakes(workdir / notebook.stem / MISTAKES_FILE)
        took = time.perf_counter() - started
        if seconds is not None:
            seconds[notebook.stem] = took
        report(f"  done in {took:.0f} s")
    return records, mistakes


def build_keys(
    answers: dict[str, RecordedAnswer],
    existing: dict[str, AnswerKey],
    chapters: list[int] | None = None,
) -> dict[str, AnswerKey]:
    """Hash each answer; keep an existing key (and its salt) when it already matches.

    A score flag gets no key: its answer is predictions, judged by their score, not a value.
    With ``chapters``, only their flags are answered: every other flag keeps its existing key.
    """
    keys = {}
    for flag in (flag for flag in flags().values() if flag.keyed):
        flag_id = flag.id
        if chapters is not None and flag.chapter not in chapters:
            if flag_id not in existing:
                raise SolutionFailed(f"flag {flag_id} has no key yet: run keys without --chapters")
            keys[flag_id] = existing[flag_id]
            continue
        answer = answers[flag_id]
        old = existing.get(flag_id)
        source = f"solutions/{answer.notebook}"
        if old is not None and old.source == source and old.matches(flag_id, answer.canonical):
            keys[flag_id] = old
        else:
            keys[flag_id] = make_key(flag_id, answer.canonical, source)
    return keys


def distinct_mistakes(
    declared: list[RecordedMistake], answers: dict[str, RecordedAnswer]
) -> dict[str, list[tuple[RecordedMistake, str]]]:
    """Each flag's declared mistakes with their canonical texts, checked to be told apart.

    The same declaration recorded twice (a cell run twice) counts once.

    Parameters
    ----------
    declared : list of RecordedMistake
        The mistakes the solutions declared, in order.
    answers : dict of str to RecordedAnswer
        The right answer of every flag.

    Returns
    -------
    dict
        Flag id -> its mistakes, each with the canonical text of its value.

    Raises
    ------
    MistakeRefused
        If a mistake names no flag, cannot be an answer, would be accepted as the right answer
        (its value is the answer's at the flag's precision, or next to it), or gives the same
        value as another mistake of the flag with another hint.
    """
    by_flag: dict[str, list[tuple[RecordedMistake, str]]] = {}
    for mistake in declared:
        where = f"the mistake “{mistake.hint}” declared in {mistake.notebook or 'a solution'}"
        try:
            flag = get_flag(mistake.flag)
            text = mistake.canonical
            accepted_as = candidates(flag, mistake.value)
        except (UnknownFlag, BadAnswer) as error:
            raise MistakeRefused(f"flag {mistake.flag}: {where}: {error}") from None
        answer = answers.get(flag.id)
        if answer is not None and answer.canonical in accepted_as:
            raise MistakeRefused(
                f"flag {flag.id}: {where} gives the right answer's value (at the flag's "
                "precision), so check() would accept it: a declared mistake must give a value of "
                "its own. Change the mistake or remove it."
            )
        known = by_flag.setdefault(flag.id, [])
        same = [other for other, other_text in known if other_text == text]
        if any(other.hint == mistake.hint for other in same):
            continue
        if same:
            raise MistakeRefused(
                f"flag {flag.id}: {where} gives the same value as the mistake “{same[0].hint}”, "
                "so check() could not tell which one a student made: merge them or drop one."
            )
        known.append((mistake, text))
    return by_flag


def build_mistakes(
    declared: list[RecordedMistake],
    answers: dict[str, RecordedAnswer],
    existing: dict[str, list[Mistake]],
    chapters: list[int] | None = None,
) -> dict[str, list[Mistake]]:
    """Hash each declared mistake with its hint; keep an existing one (and its salt) if it matches.

    With ``chapters``, the other chapters' flags keep their existing mistakes. Raises
    :class:`MistakeRefused` as :func:`distinct_mistakes` does.
    """
    hashed: dict[str, list[Mistake]] = {
        flag_id: kept
        for flag_id, kept in existing.items()
        if chapters is not None and int(flag_id.split(".")[0]) not in chapters
    }
    for flag_id, mistakes in distinct_mistakes(declared, answers).items():
        old = existing.get(flag_id, [])
        hashed[flag_id] = []
        for mistake, text in mistakes:
            source = f"solutions/{mistake.notebook}"
            kept = next(
                (
                    m
                    for m in old
                    if m.hint == mistake.hint
                    and m.key.source == source
                    and m.key.matches(flag_id, text)
                ),
                None,
            )
            hashed[flag_id].append(kept or Mistake(mistake.hint, make_key(flag_id, text, source)))
    return {flag_id: hashed[flag_id] for flag_id in flags() if flag_id in hashed}


def regenerate_keys(
    solutions_dir: Path,
    report: Callable[[str], None] = print,
    chapters: list[int] | None = None,
) -> list[str]:
    """Execute the solution notebooks and rewrite the answer keys; return the changed flag ids.

    With ``chapters``, only those chapters' notebooks run, and every other flag keeps its key
    and its declared mistakes.

    Raises :class:`~checks.authoring.solution_runs.SolutionFailed` when a solution fails or
    does not answer every flag of the catalogue exactly one way, and :class:`MistakeRefused`
    when a declared mistake cannot be told from the answer or from another mistake.
    """
    notebooks = [
        notebook
        for chapter, notebook in chapter_notebooks(solutions_dir).items()
        if chapters is None or chapter in chapters
    ]
    if not notebooks:
        raise SolutionFailed(f"no course notebooks (NN_name.ipynb) in {solutions_dir}")
    took: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="checks-keys-") as scratch:
        records, declared = execute_solutions(notebooks, Path(scratch), report=report, seconds=took)
        expected = [f.id for f in flags().values() if chapters is None or f.chapter in chapters]
        answers = one_answer_per_flag(records, expected)
    path = keys_path()
    try:
        existing = load_keys(path) if path.exists() else {}
        existing_mistakes = load_mistakes(path) if path.exists() else {}
    except KeyFileError as error:  # keys of an older format: every key is made afresh
        report(f"Replacing the old answer keys ({error}).")
        existing, existing_mistakes = {}, {}
    keys = build_keys(answers, existing, chapters)
    mistakes = build_mistakes(declared, answers, existing_mistakes, chapters)
    atomic_write_text(path, dump_keys(keys, mistakes))
    by_stem = {
        notebook.stem: chapter for chapter, notebook in chapter_notebooks(solutions_dir).items()
    }
    record_solution_seconds(
        {by_stem[stem]: value for stem, value in took.items() if stem in by_stem}
    )
    load_keys.cache_clear()
    load_mistakes.cache_clear()
    report(
        "Declared mistakes: "
        + (", ".join(f"{flag_id}: {len(m)}" for flag_id, m in mistakes.items()) or "none")
        + "."
    )
    changed = [flag_id for flag_id in keys if existing.get(flag_id) != keys[flag_id]]
    changed += [
        f"{flag_id} (mistakes)"
        for flag_id in flags()
        if existing_mistakes.get(flag_id, []) != mistakes.get(flag_id, [])
    ]
    return changed
