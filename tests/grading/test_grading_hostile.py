"""Hostile submissions graded twice in a row, in namespaces: each attack is contained.

The folder mixes an honest chapter-1 notebook with notebooks that try to rewrite the grader's
trust anchors (its package, the answer keys, the variant cache, its secret), read the grader
through ``/proc``, read the variant cache, leave a detached process that later writes to the
gradebook, to other runs and to a classmate's notebook, a symbolic link to the solution, and
names that a spreadsheet would run. A notebook that answers ``0`` everywhere is graded in the
second session: had any tampering worked, it would earn points. Expected points come from what
the solution computes, never from typed values.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import ROOT, grade

from checks.catalogue import chapter_flags
from checks.grading import Limits
from checks.grading.trust import config_dir
from checks.running.isolation import probe

CHAPTER = "01_mnist_binary"
SOLUTION = ROOT / "solutions" / f"{CHAPTER}.ipynb"
FLAGS = chapter_flags(1)
TOKEN = "hostile-" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:12]

# Each attack ends by answering flag 1.1 with the right value only if the attack succeeded, so
# the gradebook shows whether it did (0 points: contained).
TAMPER = """\
import pathlib, checks
targets = {targets!r}
done = 0
for target in targets:
    path = pathlib.Path(target)
    if not path.exists():  # not in the view (a file made in the run's private /tmp is no escape)
        continue
    try:
        if path.is_dir():
            (path / "planted.json").write_text("{{}}")
        else:
            with open(path, "a") as stream:
                stream.write("\\n# tampered\\n")
        done += 1
    except OSError:
        pass
checks.check("1.1", {right} if done else 0)
"""

SNOOP = """\
import os, pathlib, checks
leaked = False
for entry in pathlib.Path("/proc").iterdir():
    if not entry.name.isdigit():
        continue
    try:
        environment = (entry / "environ").read_bytes()
        command = (entry / "cmdline").read_bytes()
    except OSError:
        continue
    if b"GRADER_SECRET" in environment or b"pytest" in command:
        leaked = True
for path in ({cache!r}, {config!r}, {solutions!r}, {others!r}):
    if os.path.exists(path):
        leaked = True
checks.check("1.1", {right} if leaked else 0)
"""

DETACHED = """\
import glob, json, sys, time
time.sleep(3)
targets = json.loads(sys.argv[1]) + glob.glob("/tmp/checks-grade-*/answers.jsonl")
for path in targets:
    try:
        with open(path, "a") as stream:
            stream.write(json.dumps({"flag": "1.1", "value": 1}) + "\\n")
    except OSError:
        pass
time.sleep(60)
"""

DETACH = """\
import json, subprocess, sys, checks
subprocess.Popen(
    [sys.executable, "-c", {script!r}, json.dumps({writable!r}), {token!r}],
    start_new_session=True, env={{}}, stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
checks.check("1.1", 0)
"""

ZEROS = "import checks\n" + "".join(f'checks.check("{flag.id}", 0)\n' for flag in FLAGS)


def notebook(*sources: str) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    made = nbformat.v4.new_notebook(cells=cells)
    made.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return made


def fingerprint(*folders: Path) -> dict[str, str]:
    """The SHA-256 of every file under ``folders`` (the grader's trust anchors)."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def sessions(tmp_path_factory, answers, mnist_dir):
    """Grade the same folder twice, in namespaces; return both gradebooks and what was seen."""
    if probe() is None:
        pytest.fail("namespaces are needed to grade hostile work: apt-get install bubblewrap")
    right = answers["1.1"].value
    base = tmp_path_factory.mktemp("hostile")
    folder, cache, out = base / "submissions", base / "cache", base / "out" / "gradebook.csv"
    (folder / "alice").mkdir(parents=True)
    shutil.copy(SOLUTION, folder / "alice" / f"{CHAPTER}.ipynb")
    classmate = folder / "alice" / f"{CHAPTER}.ipynb"
    package = ROOT / "checks"
    anchors = [
        package / "answer_keys.json",
        package / "checker.py",
        package / "flags.toml",
        ROOT / "solutions",
        cache,
        config_dir(),
    ]
    cases = {
        "tamper": notebook(TAMPER.format(targets=[str(p) for p in anchors], right=right)),
        "snoop": notebook(
            SNOOP.format(
                right=right,
                cache=str(cache),
                config=str(config_dir()),
                solutions=str(ROOT / "solutions"),
                others=str(classmate),
            )
        ),
        "detach": notebook(
            DETACH.format(
                script=DETACHED,
                writable=[str(out), str(classmate), str(package / "answer_keys.json")],
                token=TOKEN,
            )
        ),
    }
    for name, made in cases.items():
        nbformat.write(made, folder / f"{name}_{CHAPTER}.ipynb")
    (folder / f"mallory_{CHAPTER}.ipynb").symlink_to(SOLUTION)
    nbformat.write(notebook("x = 1"), folder / f"=HYPERLINK(1)_{CHAPTER}.ipynb")
    nbformat.write(notebook("x = 1"), folder / f".hidden_{CHAPTER}.ipynb")
    cache.mkdir()
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "planted.json").unlink(missing_ok=True)
    protected = [package, ROOT / "solutions", cache, config_dir()]
    before = fingerprint(*protected)
    classmate_before = classmate.read_bytes()

    gradebooks, messages = [], []
    for session in (1, 2):
        if session == 2:
            nbformat.write(notebook(ZEROS), folder / f"zoe_{CHAPTER}.ipynb")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MNIST_DATA_DIR", str(mnist_dir))
            graded = grade(
                folder,
                out.parent,
                out=out,
                cache_dir=cache,
                isolation="namespaces",
                limits=Limits(),
            )
        result = graded.result
        messages += graded.messages
        gradebook_text = out.read_text(encoding="utf-8")
        time.sleep(5)  # a detached process would act now
        gradebooks.append(
            {
                "rows": {r["student"]: r for r in csv.DictReader(out.open(encoding="utf-8"))},
                "unchanged_after_exit": out.read_text(encoding="utf-8") == gradebook_text,
                "result": result,
            }
        )
    survivors = [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if TOKEN in " ".join(process.info["cmdline"] or [])
    ]
    after = fingerprint(*protected)
    return {
        "gradebooks": gradebooks,
        "messages": "\n".join(messages),
        "changed": {
            path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
        },
        "classmate_intact": classmate.read_bytes() == classmate_before,
        "survivors": survivors,
    }


def total(row: dict[str, str]) -> int:
    return int(row["total"])


def test_the_honest_notebook_keeps_full_marks_in_both_sessions(sessions):
    for gradebook in sessions["gradebooks"]:
        row = gradebook["rows"]["alice"]
        assert (row["status"], total(row)) == ("ok", sum(flag.points for flag in FLAGS))
        assert row["isolation"] in ("bubblewrap", "unshare")


@pytest.mark.parametrize("attack", ["tamper", "snoop", "detach"])
def test_each_attack_earns_nothing(sessions, attack):
    for gradebook in sessions["gradebooks"]:
        row = gradebook["rows"][f"{attack}_{CHAPTER}"]
        assert row["status"] == "ok", row
        assert total(row) == 0, f"{attack} succeeded: {row}"


def test_no_trust_anchor_was_changed(sessions):
    assert sessions["changed"] == set()
    assert sessions["classmate_intact"]


def test_zeros_earn_nothing_after_the_tampering_session(sessions):
    row = sessions["gradebooks"][1]["rows"][f"zoe_{CHAPTER}"]
    assert (row["status"], total(row)) == ("ok", 0)


def test_no_detached_process_outlives_its_run_and_the_gradebook_stays(sessions):
    assert sessions["survivors"] == []
    assert all(gradebook["unchanged_after_exit"] for gradebook in sessions["gradebooks"])


def test_a_symbolic_link_is_refused(sessions):
    row = sessions["gradebooks"][0]["rows"][f"mallory_{CHAPTER}"]
    assert (row["status"], total(row)) == ("refused: symbolic link", 0)


def test_formula_names_are_neutralised_and_hidden_files_get_a_row(sessions):
    rows = sessions["gradebooks"][0]["rows"]
    assert f"'=HYPERLINK(1)_{CHAPTER}" in rows
    assert f".hidden_{CHAPTER}" in rows


def test_the_grader_says_which_isolation_ran_and_what_it_verified(sessions):
    assert "isolation: namespaces" in sessions["messages"]
    assert "The grader's files match" in sessions["messages"]
    assert sessions["gradebooks"][0]["result"].isolation in ("bubblewrap", "unshare")
