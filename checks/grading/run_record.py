"""The gradebook's run record: how a grading session ran, and what to be warned of.

Beside ``gradebook.csv``, ``gradebook-run.json`` says when the session started, where the runs
happened (here, or on which cluster, over which transport), how they were contained (isolation,
control groups, the limits, and those this machine could not enforce), the session's warnings (a
plain ``tcp://`` cluster, ``--insecure-cluster``, is one) and, once it ends, what it graded. It is
written before anything runs and again at the end, so a gradebook is never without the record of
how it came about. Text a submission or the machine controls is shown escaped
(:func:`~checks.grading.shown.shown_name`).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from checks.files import atomic_write_text
from checks.grading.shown import shown_name


def run_record_file(gradebook: Path) -> Path:
    """The run record beside a gradebook: ``gradebook.csv`` -> ``gradebook-run.json``.

    Parameters
    ----------
    gradebook : Path
        The gradebook CSV.

    Returns
    -------
    Path
        ``NAME-run.json`` beside it.
    """
    return gradebook.with_name(f"{gradebook.stem}-run.json")


def session_record(scheduler: str | None, warnings: list[str]) -> dict[str, object]:
    """The start of a session's record: when, where the runs happen, and its warnings.

    Parameters
    ----------
    scheduler : str or None
        The Dask scheduler's address, or None when the runs happen on the grader's machine.
    warnings : list of str
        What the instructor must know of this session (an insecure cluster...).

    Returns
    -------
    dict
        ``started``, ``runs`` (``"here"`` or the address), ``transport`` (``tls``, ``tcp`` or
        None) and ``warnings``; the session adds its containment and, at the end, its counts.
    """
    return {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "runs": "here" if scheduler is None else scheduler,
        "transport": None if scheduler is None else scheduler.split("://", 1)[0],
        "warnings": list(warnings),
    }


def write_run_record(gradebook: Path, record: dict[str, object]) -> Path:
    """Write (or rewrite) a session's run record beside its gradebook; return its path.

    Parameters
    ----------
    gradebook : Path
        The gradebook; the record goes beside it (:func:`run_record_file`).
    record : dict
        What to record, as JSON-able values; text is shown with
        :func:`~checks.grading.shown.shown_name`.

    Returns
    -------
    Path
        The record's path.
    """
    path = run_record_file(gradebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = json.loads(json.dumps(record, default=str), object_hook=_shown_values)
    atomic_write_text(path, json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    return path


def _shown_values(item: dict[str, object]) -> dict[str, object]:
    return {
        key: shown_name(value) if isinstance(value, str) else value for key, value in item.items()
    }
