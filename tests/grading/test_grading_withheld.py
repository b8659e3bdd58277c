"""Score flags the grader can trust: a run never sees the labels it is scored against (issue 24).

First the parts, fast: MNIST dealt with a label set's labels withheld (the files verify, the
rest of MNIST is untouched, the run's labels are decoys), a stand-in run that records the labels
it can read (``y_test``) earning nothing both ways and under ``--variant-only`` while one that
records a model's predictions earns the flag, and large literals named. Then real notebooks
under namespace isolation: forged score flags, each way a run could read or write labels, earn
0 while an honest model beside them earns its points.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import ROOT, grade

from checks.catalogue import chapter_flags, get_flag
from checks.grading import Limits, step
from checks.grading.contained_run import Run
from checks.grading.literals import large_literals, literals_note
from checks.grading.settings import Settings
from checks.grading.status import RunStatus
from checks.grading.submissions import Submission
from checks.grading.variant_keys import VariantKeys
from checks.grading.withheld import POSITIONS, chapter_label_set, prepare_withheld
from checks.kaggle import kaggle_test_labels
from checks.mnist import fetch_mnist_pixels
from checks.running.isolation import Isolation
from checks.running.limits import GIB


@pytest.fixture(scope="module")
def dealt(tmp_path_factory, mnist_dir):
    return prepare_withheld(mnist_dir, tmp_path_factory.mktemp("withheld"), seed=24)


def test_a_dealing_verifies_keeps_the_rest_of_mnist_and_withholds_the_scored_labels(
    dealt, mnist_dir
):
    images, labels = fetch_mnist_pixels(mnist_dir)
    for label_set, withheld in dealt.items():
        positions = POSITIONS[label_set]()
        rest = np.setdiff1d(np.arange(len(labels)), positions)
        run_images, run_labels = fetch_mnist_pixels(withheld.folder)  # verified by its manifest
        assert (run_images[rest] == images[rest]).all() and (run_labels[rest] == labels[rest]).all()
        # The same images, in an order of the grader's; the kept labels are theirs.
        order = np.lexsort(images[positions].T)
        assert (np.sort(run_images[positions], axis=0) == np.sort(images[positions], axis=0)).all()
        assert len(order) == len(withheld.labels)
        match = {row.tobytes(): label for row, label in zip(images, labels, strict=True)}
        kept = [match[row.tobytes()] for row in run_images[positions[:500]]]
        assert (np.array(kept) == withheld.labels[:500]).all()
        # What the run can read as labels is a decoy: about one in ten right.
        assert (run_labels[positions] == withheld.labels).mean() < 0.15
    assert (
        kaggle_test_labels(dealt["kaggle_test"].folder) == dealt["kaggle_test"].labels
    ).mean() < 0.15


def test_each_chapter_with_score_flags_has_one_label_set():
    assert [chapter_label_set(chapter) for chapter in range(1, 11)] == [
        None,
        None,
        None,
        None,
        None,
        "mnist_test",
        "mnist_test",
        "mnist_test",
        "kaggle_test",
        None,
    ]


def _forging_and_honest_runs(monkeypatch, dealt, seen: list[Path]):
    """Stand-in runs: ``forger`` records the labels its MNIST folder holds, ``honest`` a model's."""

    def run(submission, mnist_dir, limits, parameters=None, isolation=None) -> Run:
        seen.append(mnist_dir)
        _, labels = fetch_mnist_pixels(mnist_dir)
        if submission.student == "forger":  # y_test, the label files: what the run can read
            predictions = labels[60_000:]
        else:  # a model 98 % right on the images the run was given
            predictions = dealt["mnist_test"].labels.copy()
            predictions[:200] = (predictions[:200] + 1) % 10
        answers = {flag.id: [predictions.tolist()] for flag in chapter_flags(6) if not flag.keyed}
        return Run(RunStatus.OK, None, answers, 1.0)

    monkeypatch.setattr(step, "run_submission", run)


@pytest.mark.parametrize("variant_only", [None, False, True])
def test_labels_a_run_can_read_earn_nothing_as_submitted_under_a_variant_and_variant_only(
    monkeypatch, tmp_path, dealt, mnist_dir, variant_only
):
    seen: list[Path] = []
    _forging_and_honest_runs(monkeypatch, dealt, seen)
    bench = step.Bench("tests", Isolation("none"), {}, {}, mnist_dir, dealt)
    settings = Settings()
    if variant_only is not None:
        variant = VariantKeys({"n_train": 30_000}, {}, [], scores={"6.5": 0.965})
        settings = Settings(variants={6: variant}, variant_only=variant_only)
    score = get_flag("6.5")
    for student, points in [("forger", 0), ("honest", score.points)]:
        submission = Submission(student, tmp_path / f"{student}.ipynb", None, chapter=6)
        graded = step.grade_submission(submission, settings, bench)
        (flag,) = [f for f in graded.flags if f.flag.id == "6.5"]
        assert flag.points == points, (student, variant_only, flag.verdict)
    assert seen and set(seen) == {dealt["mnist_test"].folder}


def test_large_literals_are_named_and_the_course_notebooks_have_none(tmp_path):
    notebook = nbformat.v4.new_notebook()
    table = "".join(str(digit % 10) for digit in range(10_000))
    notebook.cells = [
        nbformat.v4.new_code_cell("%pip install nothing\nx = 1"),
        nbformat.v4.new_code_cell(f"labels = {table!r}"),
        nbformat.v4.new_code_cell(f"labels = {list(range(1_000))!r}"),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert large_literals(path) == [
        "code cell 2: a text literal of 10,000 characters",
        "code cell 3: a literal of 1,000 items",
    ]
    assert literals_note(path).startswith("large literal (a label table?)")
    for course in [
        *sorted((ROOT / "notebooks").glob("*.ipynb")),
        *(ROOT / "solutions").glob("*.ipynb"),
    ]:
        assert large_literals(course) == [], course.name


# --- Real notebooks, under namespace isolation -----------------------------------------------

HONEST = """\
import checks
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

mnist = checks.fetch_mnist()
X, y = mnist.data, mnist.target
model = make_pipeline(PCA(40, random_state=0), KNeighborsClassifier(4, weights="distance"))
model.fit(X[:60_000], y[:60_000])
checks.check("6.5", model.predict(X[60_000:]))
"""
#: Each way a run could read the labels it is scored against, as a one-cell notebook.
FORGERIES = {
    "y_test": 'import checks\ny = checks.fetch_mnist().target\nchecks.check("6.5", y[60_000:])',
    "label_file": """\
import gzip, os
from pathlib import Path
import numpy as np
import checks
folder = Path(os.environ["MNIST_DATA_DIR"])
path = next(folder.glob("t10k-labels*"))
raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
checks.check("7.4", np.frombuffer(raw, np.uint8, offset=8))
""",
    "kaggle_labels": """\
import checks
import pandas as pd
from checks.kaggle import kaggle_test_labels
labels = kaggle_test_labels()
checks.check("9.2", labels)
pd.DataFrame({"ImageId": range(1, 28_001), "Label": labels}).to_csv("s.csv", index=False)
checks.check("9.4", "s.csv")
""",
    # MNIST's test labels typed in (here a stand-in of the same length): the order is secret.
    "label_table": (
        f"import checks\nlabels = {'7210414959' * 1000!r}\nchecks.check('6.5', list(labels))"
    ),
    "record_file": """\
import json, os
import checks
labels = checks.fetch_mnist().target[60_000:].astype(int)
table = [labels.tolist(), ((labels + 1) % 10).tolist()]  # "the ensemble", "a member"
with open(os.environ["CHECKS_RECORD"], "a") as records:
    records.write(json.dumps({"flag": "8.3", "value": table, "notebook": "x.ipynb"}) + "\\n")
# instead of checks.check("8.3", labels): the record written by hand
""",
}


def _one_cell(source: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return notebook


@pytest.mark.slow  # executes six notebooks, one of which fits a model
def test_forged_score_flags_earn_nothing_beside_an_honest_submission(tmp_path, mnist_dir):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(_one_cell(HONEST), submissions / "honest.ipynb")
    for name, source in FORGERIES.items():
        nbformat.write(_one_cell(source), submissions / f"{name}.ipynb")
    graded = grade(
        submissions,
        tmp_path,
        isolation="namespaces",
        limits=Limits(cell_timeout=400, timeout=600, memory=3 * GIB),
    )
    rows = graded.rows
    assert {row["isolation"] for row in rows.values()} - {"bubblewrap", "unshare"} == set()
    assert rows["honest"]["status"] == "ok" and rows["honest"]["6.5"] == "20", rows["honest"]
    forged = {"y_test": ["6.5"], "label_file": ["7.4"], "kaggle_labels": ["9.2", "9.4"]}
    forged["record_file"] = ["8.3"]
    forged["label_table"] = ["6.5"]
    for student, flag_ids in forged.items():
        row = rows[student]
        assert row["status"] == "ok", (student, row["status"])
        assert [row[flag_id] for flag_id in flag_ids] == ["0"] * len(flag_ids), (student, row)
        assert row["total"] == "0"
        assert bool(row["notes"]) == (student == "label_table"), (student, row["notes"])
    assert rows["honest"]["notes"] == ""
    assert all(json.dumps(row) for row in rows.values())


def test_a_dealt_file_that_differs_from_its_manifest_is_refused(dealt, tmp_path):
    import shutil

    from checks.mnist import CorruptMnistFile, read_idx_folder

    copy = shutil.copytree(dealt["mnist_test"].folder, tmp_path / "dealt")
    labels = copy / "t10k-labels-idx1-ubyte"
    content = bytearray(labels.read_bytes())
    content[-1] = (content[-1] + 1) % 10
    labels.write_bytes(bytes(content))
    with pytest.raises(CorruptMnistFile, match="SHA-256"):
        read_idx_folder(copy)
