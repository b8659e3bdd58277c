"""Every solution notebook runs in strict mode, so every flag's key is proven by execution.

The answers the solutions compute are recorded (never stored): they must pass ``checks verify``,
near misses must fail, the committed keys must be exactly what the solutions produce, and no answer
may appear in plain text in ``checks/`` or ``notebooks/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEARCHABLE_DIGITS, SOLUTIONS, answer_leaks, significant_digits

from checks import checker
from checks.answer_keys import load_keys, load_mistakes
from checks.authoring.keys import build_keys, build_mistakes, distinct_mistakes
from checks.catalogue import chapter_flags, get_flag
from checks.outcome import WRONG


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.name)
def test_solution_runs_in_strict_mode(executed, notebook: Path):
    run = executed[0][notebook.name]
    assert run.ok, run.error_summary()


def test_committed_keys_are_what_the_solutions_compute(answers, executed):
    keys = load_keys()
    assert build_keys(answers, keys) == keys
    mistakes = load_mistakes()
    assert build_mistakes(executed[2], answers, mistakes) == mistakes


def test_keys_of_some_chapters_keep_every_other_flags_key_and_mistakes(answers, executed):
    """``keys --chapters 2``: chapter 2's keys from its answers, the others kept as they are."""
    keys, mistakes = load_keys(), load_mistakes()
    chapter_2 = {flag_id: answer for flag_id, answer in answers.items() if flag_id[0] == "2"}
    others = {flag_id: key for flag_id, key in keys.items() if flag_id[0] != "2"}
    assert build_keys(chapter_2, keys, [2]) == keys
    remade = build_keys(chapter_2, others, [2])  # chapter 2's keys made anew from its answers
    assert {flag_id: key for flag_id, key in remade.items() if flag_id[0] != "2"} == others
    assert all(remade[f].matches(f, a.canonical) for f, a in chapter_2.items() if f in keys)
    declared = [m for m in executed[2] if m.flag[0] == "2"]
    assert build_mistakes(declared, chapter_2, mistakes, [2]) == mistakes


#: Every flag of these chapters declares at least two common mistakes (checks.mistake).
CHAPTERS_WITH_MISTAKES = (2, 3, 4)


def test_each_declared_mistake_differs_from_the_answer_and_check_names_it(answers, executed):
    declared = distinct_mistakes(executed[2], answers)  # raises for a mistake the answer hides
    for chapter in CHAPTERS_WITH_MISTAKES:
        for flag in chapter_flags(chapter):
            assert len(declared.get(flag.id, [])) >= 2, f"flag {flag.id}: declare two mistakes"
    for flag_id, mistakes in declared.items():
        for mistake, text in mistakes:
            assert text != answers[flag_id].canonical
            outcome = checker.judge(flag_id, mistake.value)
            assert outcome.status == WRONG and outcome.targeted, f"{flag_id}: {mistake.hint}"
            assert outcome.detail == mistake.hint
            assert f"Not quite — {mistake.hint}" in str(outcome)


def as_command_line(flag_id: str, canonical_text: str) -> str:
    if get_flag(flag_id).kind == "score":  # predictions: their digits; a table's rows by "|"
        rows = [[int(digit) for digit in row] for row in canonical_text.split("|")]
        return json.dumps(rows if "|" in canonical_text else rows[0])
    if get_flag(flag_id).kind != "array":
        return canonical_text
    shape_text, entries = canonical_text.split(":")
    shape = [int(size) for size in shape_text.split("x")]
    values = [int(entry) for entry in entries.split(",")]
    rows = [values[i : i + shape[-1]] for i in range(0, len(values), shape[-1])]
    return json.dumps(rows if len(shape) == 2 else values)


def near_miss(flag_id: str, canonical_text: str) -> str:
    flag = get_flag(flag_id)
    if flag.kind == "integer":
        return str(int(canonical_text) + 1)
    if flag.kind == "float":
        return f"{float(canonical_text) + 3 * 10**-flag.decimals:.{flag.decimals}f}"
    if flag.kind == "string":
        return canonical_text + "x"
    if flag.kind == "score":  # every prediction another digit: far below any threshold
        shifted = "".join(d if d == "|" else str((int(d) + 1) % 10) for d in canonical_text)
        return as_command_line(flag_id, shifted)
    shape_text, entries = canonical_text.split(":")
    first, *rest = entries.split(",")
    return as_command_line(flag_id, f"{shape_text}:{','.join([str(int(first) + 1), *rest])}")


def verify(flag_id: str, value: str) -> subprocess.CompletedProcess:
    """``checks verify``, with the value on standard input (8.3's table is too long for argv)."""
    return subprocess.run(
        [sys.executable, "-m", "checks", "verify", flag_id, "-"],
        input=value,
        capture_output=True,
        text=True,
    )


def test_verify_accepts_the_computed_answers_and_rejects_near_misses(answers):
    for flag_id, answer in answers.items():
        right = verify(flag_id, as_command_line(flag_id, answer.canonical))
        assert right.returncode == 0, f"flag {flag_id}: {right.stdout}{right.stderr}"
        wrong = verify(flag_id, near_miss(flag_id, answer.canonical))
        assert wrong.returncode == 1, f"flag {flag_id}: {wrong.stdout}{wrong.stderr}"


def test_no_answer_appears_in_plain_text(answers):
    # What the course publishes: the files git tracks there (not what running the notebooks
    # writes beside them, such as chapter 9's Kaggle files, which hold every number there is).
    listed = subprocess.run(
        ["git", "ls-files", "-z", "checks", "notebooks", "book"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    files = [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    texts = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8", errors="ignore")
        for path in files
    }
    assert texts, "nothing was searched"
    assert not answer_leaks(answers, texts)
    # A score flag's answer is predictions, not a secret: there is nothing to search for.
    secret = {f: a for f, a in answers.items() if get_flag(f).keyed}
    # Small counts (errors among 100 images...) are too short to search for: variants guard them.
    searched = [
        f for f, a in secret.items() if significant_digits(a.canonical) >= SEARCHABLE_DIGITS
    ]
    assert 4 * len(searched) >= 3 * len(secret), "most answers must be long enough to search for"


def test_the_leak_search_finds_searchable_forms_and_skips_tokens_found_everywhere():
    from types import SimpleNamespace

    answers = {"4.3": SimpleNamespace(canonical="0.2500"), "1.1": SimpleNamespace(canonical="1234")}
    assert answer_leaks(answers, {"page": "a share of 0.2500"}) == ["flag 4.3 in page"]
    assert answer_leaks(answers, {"page": "there are 1,234 fives"}) == ["flag 1.1 in page"]
    assert answer_leaks(answers, {"page": "scores 0.25 and 12.34, a 1234.5 total"}) == []
