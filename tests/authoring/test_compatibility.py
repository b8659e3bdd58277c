"""The compatibility matrix: its committed outputs cover what it found, and check() uses them.

The answers here are synthetic (made with ``make_key``), never the course's.
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from checks import answer_keys, checker, versions
from checks.answer_keys import load_keys, load_version_keys, make_key
from checks.authoring.compatibility.declared import Environment, load_declaration
from checks.authoring.compatibility.matrix import compare
from checks.authoring.compatibility.outputs import planned_outputs, summary, table
from checks.authoring.compatibility.results import EnvironmentResult
from checks.canonical import read_answer
from checks.catalogue import flags, get_flag
from checks.compatibility import DIFFERS, SAME, load_compatibility, series
from checks.judge import Standard, judge

DECLARATION = load_declaration(ROOT)
COMPATIBILITY = load_compatibility()


# The committed outputs, against the declaration and the keys.


def test_the_reference_environment_has_the_course_pins():
    assert DECLARATION.reference.versions() == versions.pinned_versions()


def test_every_declared_environment_is_in_the_last_run():
    assert COMPATIBILITY is not None, "run `python -m checks compat`"
    for environment in DECLARATION.environments:
        assert COMPATIBILITY.environments.get(environment.name) == environment.versions(), (
            f"{environment.name} is declared differently from the last run: run "
            f"`python -m checks compat --environments {environment.name}`"
        )
    series_run = {environment.minor for environment in DECLARATION.environments}
    assert {"1.5", "1.6", "1.7", "1.8", "1.9"} <= series_run


def test_every_flag_has_a_status_in_every_environment():
    # A score flag has no key to compare: the matrix covers the flags with answer keys, but for
    # the chapters it says it has not run yet.
    not_run = set(json.loads((ROOT / "checks" / "compatibility.json").read_text())["not_run"])
    keyed = {flag.id for flag in flags().values() if flag.keyed}
    assert set(COMPATIBILITY.flags) == {f for f in keyed if int(f.split(".")[0]) not in not_run}
    page = (ROOT / "book" / "compatibility.md").read_text(encoding="utf-8")
    for chapter in not_run:
        assert f"--chapters {' '.join(map(str, sorted(not_run)))}" in page, chapter
    for row in COMPATIBILITY.flags.values():
        assert set(row) == {e.name for e in DECLARATION.environments}
        assert row[DECLARATION.reference.name] == SAME


def test_the_keys_cover_every_version_sensitive_flag():
    tagged = load_version_keys()
    expected = {
        (series(COMPATIBILITY.environments[name]["scikit-learn"]), flag_id)
        for flag_id, row in COMPATIBILITY.flags.items()
        for name, status in row.items()
        if status == DIFFERS
    }
    found = {(minor, flag_id) for minor, keys in tagged.items() for flag_id in keys}
    assert found == expected, "run `python -m checks compat --from-results`"


def test_no_tagged_key_is_the_course_answer_key():
    keys = load_keys()
    for by_flag in load_version_keys().values():
        for flag_id, key in by_flag.items():
            assert key.digest != keys[flag_id].digest


# check() with the installed scikit-learn series.


@pytest.fixture
def synthetic_keys(monkeypatch):
    """Flag 3.3: the course's answer 0.9, and 0.8 under scikit-learn 1.6 only."""
    monkeypatch.setattr(checker, "load_keys", lambda: {"3.3": make_key("3.3", "0.9000", "test")})
    tagged = {"1.6": {"3.3": make_key("3.3", "0.8000", "test")}}
    monkeypatch.setattr(checker, "load_version_keys", lambda: tagged)


@pytest.mark.parametrize(
    ("installed", "accepted", "refused"),
    [("1.6", 0.8, 0.9), ("1.9", 0.9, 0.8), ("1.7", 0.9, 0.8)],
)
def test_check_accepts_the_answer_of_the_installed_series_only(
    synthetic_keys, monkeypatch, installed, accepted, refused
):
    monkeypatch.setattr(versions, "installed_series", lambda: installed)
    monkeypatch.setattr(versions, "note_for_flag", lambda flag_id: None)
    assert checker.judge("3.3", accepted).correct
    assert not checker.judge("3.3", refused).correct


def test_a_refused_answer_carries_the_version_note(synthetic_keys, monkeypatch):
    monkeypatch.setattr(versions, "installed_series", lambda: "1.4")
    monkeypatch.setattr(versions, "note_for_flag", lambda flag_id: "Install 1.9.1.")
    assert checker.judge("3.3", 1).detail.endswith("Install 1.9.1.")


# The comparison and what it writes, on synthetic results.

REFERENCE = Environment("1.9.1", "1.9.1", "2.4.6", "1.17.1")
OLD = Environment("1.6.1", "1.6.1", "2.0.2", "1.14.1")
OLDER = Environment("1.5.2", "1.5.2", "2.0.2", "1.14.1")
CONTROL = Environment("1.9.1-numpy2.0", "1.9.1", "2.0.2", "1.14.1")
FLAGS = ["1.1", "3.3", "5.3"]


def results(*entries: tuple[Environment, dict[str, str]]) -> dict[str, EnvironmentResult]:
    return {e.name: EnvironmentResult(e, answers, seconds=60.0) for e, answers in entries}


SYNTHETIC = results(
    (REFERENCE, {"1.1": "11", "3.3": "0.9000", "5.3": "0.5"}),
    (OLD, {"1.1": "11", "3.3": "0.8000", "5.3": "0.5"}),
    (OLDER, {"1.1": "11", "3.3": "0.8000"}),
    (CONTROL, {"1.1": "11", "3.3": "0.9000", "5.3": "0.5"}),
)


def test_compare_tells_same_differs_unsupported_and_keys_differences_by_series():
    matrix = compare(SYNTHETIC, REFERENCE, FLAGS)
    assert matrix.statuses["1.1"] == dict.fromkeys(SYNTHETIC, "same")
    assert matrix.statuses["3.3"] == {
        "1.9.1": "same",
        "1.6.1": "differs",
        "1.5.2": "differs",
        "1.9.1-numpy2.0": "same",
    }
    assert matrix.statuses["5.3"]["1.5.2"] == "unsupported"
    assert matrix.tagged == {"1.6": {"3.3": "0.8000"}, "1.5": {"3.3": "0.8000"}}
    assert matrix.shaping == ("scikit-learn",)
    assert matrix.sensitive_flags() == ["3.3", "5.3"]


def test_an_answer_changed_by_numpy_alone_is_a_conflict_and_never_keyed():
    changed = {**SYNTHETIC, **results((CONTROL, {"1.1": "12", "3.3": "0.9000", "5.3": "0.5"}))}
    matrix = compare(changed, REFERENCE, FLAGS)
    assert matrix.statuses["1.1"]["1.9.1-numpy2.0"] == "conflict"
    assert "1.9" not in matrix.tagged
    assert matrix.shaping == ("scikit-learn", "numpy", "scipy")


def test_the_outputs_hold_statuses_and_hashes_never_answers(tmp_path):
    matrix = compare(SYNTHETIC, REFERENCE, FLAGS)
    outputs = planned_outputs(tmp_path, matrix, SYNTHETIC, {})
    for text in outputs.values():
        assert "0.8000" not in text and "0.9000" not in text
    document = json.loads(summary(matrix, SYNTHETIC))
    assert document["flags"]["3.3"]["1.6.1"] == "differs"
    page = table(matrix, SYNTHETIC)
    assert "| 3.3 | same | **differs** | **differs** | same |" in page
    assert "| 5.3 | same | same | unsupported | same |" in page


def test_a_tagged_key_accepts_its_answer_and_is_kept_when_unchanged(tmp_path):
    from checks.authoring.compatibility.outputs import version_keys

    matrix = compare(SYNTHETIC, REFERENCE, FLAGS)
    keys = version_keys(matrix, {})
    tagged = Standard(key=keys["1.6"]["3.3"])
    assert judge(read_answer(get_flag("3.3"), 0.8), tagged).right
    assert not judge(read_answer(get_flag("3.3"), 0.9), tagged).right
    assert version_keys(matrix, keys) == keys  # same salts: a re-run changes no file


def test_write_matrix_writes_the_three_outputs_and_a_rerun_changes_nothing(tmp_path, monkeypatch):
    from checks.authoring.compatibility import command

    # write_matrix judges every flag in every environment against the keys: at the course's
    # scrypt cost (64 MiB, 0.14 s a hash) two minutes of hashing that this test does not test. So
    # it gets keys of its own, at a small cost, which no synthetic answer matches ("1").
    monkeypatch.setattr(answer_keys, "SCRYPT_N", 2**10)
    cheap = {flag_id: make_key(flag_id, "1", "test") for flag_id in flags()}
    monkeypatch.setattr(command, "load_keys", lambda path: cheap)
    write_matrix = command.write_matrix
    (tmp_path / "checks").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    reference = {flag_id: "0" for flag_id in flags()}
    found = {
        e.name: EnvironmentResult(
            e, reference if e.minor != "1.6" else {**reference, "3.3": "0.8000"}, seconds=1.0
        )
        for e in DECLARATION.environments
    }
    reported: list[str] = []
    matrix = write_matrix(tmp_path, found, reported.append)
    assert matrix.sensitive_flags() == ["3.3"]
    written = {line.removeprefix("wrote ") for line in reported if line.startswith("wrote ")}
    assert any("python -m checks keys" in line for line in reported), "synthetic answers"
    assert written == {
        "checks/compatibility.json",
        "checks/answer_keys_by_version.json",
        "book/compatibility.md",
    }
    tagged = load_version_keys(tmp_path / "checks" / "answer_keys_by_version.json")
    assert list(tagged) == ["1.6"] and list(tagged["1.6"]) == ["3.3"]
    reported.clear()
    write_matrix(tmp_path, found, reported.append)
    assert not [line for line in reported if line.startswith("wrote ")]


def test_a_run_of_some_chapters_keeps_the_earlier_answers_to_the_others():
    environment = OLD
    earlier = EnvironmentResult(
        environment, {"1.1": "11", "3.3": "0.9000"}, {}, 30.0, "2026-01-01", {"1": 10.0, "3": 20.0}
    )
    rerun = EnvironmentResult(environment, {"3.3": "0.8000"}, {}, 5.0, "2026-02-02", {"3": 5.0})
    merged = rerun.merged_into(earlier, [3])
    assert merged.answers == {"1.1": "11", "3.3": "0.8000"}
    assert merged.chapter_seconds == {"1": 10.0, "3": 5.0} and merged.seconds == 15.0
    assert merged.date == "2026-02-02"


def test_a_run_of_some_chapters_refuses_an_earlier_result_without_chapter_times():
    earlier = EnvironmentResult(OLD, {"1.1": "11"}, {}, 30.0, "2026-01-01")
    rerun = EnvironmentResult(OLD, {"3.3": "0.8"}, {}, 5.0, "", {"3": 5.0})
    with pytest.raises(ValueError, match="every chapter once"):
        rerun.merged_into(earlier, [3])


def test_a_chapter_not_run_in_every_environment_is_left_out_and_named():
    reference = EnvironmentResult(
        REFERENCE, {"1.1": "11", "3.3": "0.9000"}, {}, 2.0, "", {"1": 1.0, "3": 1.0}
    )
    old = EnvironmentResult(OLD, {"1.1": "11"}, {}, 1.0, "", {"1": 1.0})
    matrix = compare({"1.9.1": reference, "1.6.1": old}, REFERENCE, ["1.1", "3.3"])
    assert list(matrix.statuses) == ["1.1"] and matrix.not_run == (3,)
    page = table(matrix, {"1.9.1": reference, "1.6.1": old})
    assert "`python -m checks compat --chapters 3`" in page
