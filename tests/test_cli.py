"""The command line: list, status, verify's exit codes and messages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from checks import cli
from checks.answer_keys import make_key
from checks.catalogue import flags


def run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checks", *arguments], capture_output=True, text=True
    )


def test_list_shows_every_flag_with_chapter_points_and_title():
    completed = run("list")
    assert completed.returncode == 0
    for flag in flags().values():
        line = next(
            line for line in completed.stdout.splitlines() if line.startswith(flag.id + " ")
        )
        assert str(flag.points) in line and flag.title in line and f" {flag.chapter} " in line


def test_status_shows_the_table():
    completed = run("status")
    assert completed.returncode == 0
    assert "Total" in completed.stdout and "progress.json" in completed.stdout


@pytest.fixture(scope="module")
def keys():
    """Made once: each key costs a deliberately slow hash."""
    return {"1.1": make_key("1.1", "1234", "tests"), "1.4": make_key("1.4", "0.500", "tests")}


@pytest.fixture
def synthetic_keys(keys, monkeypatch):
    monkeypatch.setattr("checks.checker.load_keys", lambda: keys)


@pytest.mark.parametrize(
    ("arguments", "code", "text"),
    [
        (["1.1", "1234"], 0, "Correct"),
        (["1.1", "1234.0"], 0, "Correct"),
        (["1.4", "0.5003"], 0, "Correct"),
        (["1.1", "1233"], 1, "Not quite"),
        (["1.1", "12.5"], 2, "whole number"),
        (["1.1", "abc"], 2, "expected a number"),
        (["1.1", "nan"], 2, "got nan"),
        (["8.8", "1"], 2, "no flag '8.8'"),
    ],
)
def test_verify_exit_codes(synthetic_keys, capsys, arguments, code, text):
    assert cli.main(["verify", *arguments]) == code
    captured = capsys.readouterr()
    assert text in captured.out + captured.err


def test_verify_does_not_save_progress_and_says_so(synthetic_keys, isolated_home, capsys):
    for value in ("1234", "1235"):
        cli.main(["verify", "1.1", value])
        out = capsys.readouterr().out
        assert cli.NOTHING_SAVED in out and "+10 pts" not in out
    assert "Worth 10 pts" in (cli.main(["verify", "1.1", "1234"]), capsys.readouterr().out)[1]
    assert not (isolated_home / "progress.json").exists()


def test_verify_reads_a_value_from_standard_input(synthetic_keys, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("1234\n"))
    assert cli.main(["verify", "1.1", "-"]) == 0
    assert "Correct" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("9" * (cli.MAX_STDIN_CHARACTERS + 1)))
    assert cli.main(["verify", "1.1", "-"]) == 2
    error = capsys.readouterr().err
    assert "standard input" in error and "\n" not in error.rstrip("\n")


def test_usage_errors_exit_with_2():
    assert run("verify", "1.1").returncode == 2
    assert run("frobnicate").returncode == 2


def test_the_class_grading_options_reach_the_parser():
    from checks.cli import build_parser

    options = ["--variant", "target_digit=3", "--variant-only", "--report", "class.html"]
    arguments = build_parser().parse_args(
        ["grade", "subs", *options, "--scheduler", "tcp://127.0.0.1:8786"]
    )
    assert arguments.variant_only and arguments.scheduler == "tcp://127.0.0.1:8786"
    assert arguments.report == "class.html"
    report = build_parser().parse_args(["report", "gradebook.csv", "--out", "r.html"])
    assert (report.gradebook, report.out) == ("gradebook.csv", "r.html")
