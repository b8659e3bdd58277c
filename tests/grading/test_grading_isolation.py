"""Grading sessions and their isolation: namespaces, or a loud warning without them."""

from __future__ import annotations

import pytest
from conftest import grade

from checks.grading import GradingInputError
from checks.running import isolation
from checks.running.isolation import NONE_WARNING

# --- Isolation modes -------------------------------------------------------------------------


def test_without_isolation_the_grader_warns_loudly_and_says_so(tmp_path):
    (tmp_path / "dee.pdf").write_text("%PDF")
    graded = grade(tmp_path, tmp_path, isolation="none")
    result, messages = graded.result, graded.messages
    assert result.isolation == "none"
    assert NONE_WARNING in messages and "isolation: none" in "\n".join(messages)
    assert "The grader's files match" in messages[0]


def test_namespaces_asked_for_but_refused_stop_grading_with_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "dee.pdf").write_text("%PDF")
    monkeypatch.setattr(isolation, "probe", lambda: None)
    monkeypatch.setattr(isolation, "_probe_results", lambda: {"bubblewrap": "not installed"})
    with pytest.raises(GradingInputError, match="cannot run in Linux namespaces"):
        grade(tmp_path, tmp_path, isolation="namespaces")
    assert not (tmp_path / "gradebook.csv").exists()
