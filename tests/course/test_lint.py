"""The code stays ruff clean (lint and format)."""

from __future__ import annotations

import shutil
import subprocess

from conftest import ROOT


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    executable = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    return subprocess.run([executable, *arguments], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check():
    completed = ruff("check", "checks", "tests", "benchmarks")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ruff_format():
    completed = ruff("format", "--check", "checks", "tests", "benchmarks")
    assert completed.returncode == 0, completed.stdout + completed.stderr
