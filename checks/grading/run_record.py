"""The gradebook's run record: how a grading session ran, and what to be warned of.

Beside ``gradebook.csv``, ``gradebook-run.json`` says where the runs happened (here, or on which
cluster, over which transport), how they were contained, and the session's warnings: a plain
``tcp://`` cluster (``--insecure-cluster``) is one. It is written before anything runs, so a
gradebook is never without the record of how it came about.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from checks.files import atomic_write_text


def run_record_file(gradebook: Path) -> Path:
    """The run record beside ``gradebook``: ``NAME-run.json``."""
    return gradebook.with_name(f"{gradebook.stem}-run.json")


def write_run_record(
    gradebook: Path, *, scheduler: str | None, isolation: str, warnings: list[str]
) -> Path:
    """Write the run record of a grading session beside its gradebook; return its path.

    Parameters
    ----------
    gradebook : Path
        The gradebook CSV.
    scheduler : str or None
        The Dask scheduler's address, or None when the runs happen on the grader's machine.
    isolation : str
        How the grader's machine contains runs ("bubblewrap", "unshare" or "none").
    warnings : list of str
        What the instructor must know of this session (an insecure cluster...).

    Returns
    -------
    Path
        The run record.
    """
    where = "here" if scheduler is None else scheduler
    transport = None if scheduler is None else scheduler.split("://", 1)[0]
    record = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "runs": where,
        "transport": transport,
        "isolation": isolation,
        "warnings": warnings,
    }
    path = run_record_file(gradebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path
