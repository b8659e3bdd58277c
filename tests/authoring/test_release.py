"""Student notebooks are generated from the solutions: blanks for solution code, no outputs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml
from conftest import ROOT, answer_leaks

from checks import versions
from checks.authoring.install_cell import install_cell_source
from checks.authoring.jupyter_metadata import notebook_metadata
from checks.authoring.release import (
    FLAG_TABLE,
    MarkerError,
    NoSolutions,
    is_mistakes_cell,
    pinned_scikit_learn,
    plan_release,
    release,
    strip_solution_source,
    student_version,
)
from checks.catalogue import flags

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_line_markers_keep_the_assigned_name():
    source = 'answer = (y == "5").sum()  # SOLUTION\ncheck("1.1", answer)'
    assert strip_solution_source(source) == 'answer = ...  # your code here\ncheck("1.1", answer)'
    assert strip_solution_source("    plt.plot(x)  # SOLUTION") == "    ...  # your code here"


def test_block_markers_become_one_prompt_at_their_indentation():
    source = "def f():\n    # BEGIN SOLUTION\n    return 42\n    # END SOLUTION\nprint(1)"
    assert strip_solution_source(source) == "def f():\n    # your code here\nprint(1)"


@pytest.mark.parametrize(
    "source",
    [
        "# BEGIN SOLUTION\nx = 1",
        "x = 1\n# END SOLUTION",
        "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION",
    ],
)
def test_unbalanced_markers_are_errors(source):
    with pytest.raises(MarkerError):
        strip_solution_source(source, "nb cell 3")


def test_student_version_has_no_outputs_and_a_plain_kernelspec():
    solution = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "my-venv", "display_name": "My venv"}, "papermill": {}}
    )
    cell = nbformat.v4.new_code_cell("x = 2  # SOLUTION", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", text="2")]
    solution.cells.append(cell)
    student = student_version(solution)
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert student.cells[0].source == "x = ...  # your code here"
    assert (
        student.metadata["kernelspec"]["name"] == "python3" and "papermill" not in student.metadata
    )
    assert solution.cells[0].source == "x = 2  # SOLUTION"  # the solution is untouched


@pytest.mark.parametrize("solution_path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebooks_are_well_formed(solution_path):
    notebook = nbformat.read(solution_path, as_version=4)
    nbformat.validate(notebook)
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    assert sum("parameters" in t for t in tags) == 1, "one papermill parameters cell"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), (
        "commit solutions without outputs"
    )
    sources = "\n".join(cell.source for cell in code)
    assert "# SOLUTION" in sources, "a chapter without exercises"
    assert "google.colab" in code[0].source, "the first code cell installs the package in Colab"
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert f'repository = "{repository}"' in code[0].source, "Colab installs from _config.yml's URL"


@pytest.mark.parametrize("solution_path", SOLUTIONS, ids=lambda p: p.name)
def test_student_notebooks_hold_no_solution_code(solution_path):
    student = nbformat.read(ROOT / "notebooks" / solution_path.name, as_version=4)
    solution = nbformat.read(solution_path, as_version=4)
    taught = [cell for cell in solution.cells if not is_mistakes_cell(cell)]
    for student_cell, solution_cell in zip(student.cells, taught, strict=True):
        for line in solution_cell.source.splitlines():
            if line.rstrip().endswith("# SOLUTION"):
                assert line not in student_cell.source
        assert "SOLUTION" not in student_cell.source
        assert "checks.mistake" not in student_cell.source


def test_release_check_passes_on_the_repository():
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "release", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr


@pytest.fixture
def course_copy(tmp_path):
    """A copy of the course's sources, to edit."""
    for folder in ("solutions", "notebooks", "book"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def release_check(root) -> int:
    return subprocess.run(
        [sys.executable, "-m", "checks", "release", "--check"], cwd=root, capture_output=True
    ).returncode


def test_release_check_notices_edits_and_release_repairs_them(course_copy):
    edited = next((course_copy / "solutions").glob("*.ipynb"))
    notebook = nbformat.read(edited, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    nbformat.write(notebook, edited)
    orphan = course_copy / "notebooks" / "99_orphan.ipynb"
    orphan.write_text("{}")
    (course_copy / FLAG_TABLE).write_text("edited by hand")

    assert release_check(course_copy) == 1
    plan = plan_release(course_copy)
    assert plan.stale == [orphan]
    expected = {course_copy / "notebooks" / edited.name, course_copy / FLAG_TABLE, orphan}
    assert set(plan.out_of_date()) == expected
    release(course_copy)
    assert release_check(course_copy) == 0
    assert not orphan.exists()


def test_the_repository_url_comes_from_config(course_copy):
    config = course_copy / "_config.yml"
    config.write_text(
        config.read_text().replace("url: https://github.com/", "url: https://example.org/fork/")
    )
    assert release_check(course_copy) == 1
    release(course_copy)
    for folder in ("solutions", "notebooks"):
        for path in (course_copy / folder).glob("*.ipynb"):
            install = nbformat.read(path, as_version=4).cells[2].source
            assert 'repository = "https://example.org/fork/' in install, path


def test_the_colab_cell_installs_the_pinned_scikit_learn_from_pyproject(course_copy):
    pin = pinned_scikit_learn(ROOT)
    assert pin == versions.pinned_versions()["scikit-learn"]
    for path in SOLUTIONS:
        install = nbformat.read(path, as_version=4).cells[2].source
        assert f'scikit_learn = "{pin}"' in install, path
        assert 'f"scikit-learn=={scikit_learn}"' in install, path
        assert "numpy" not in install.split("import sys", 1)[1], "Colab's NumPy must stay"
    pyproject = course_copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'"scikit-learn=={pin}"', '"scikit-learn==9.9.9"')
    )
    assert release_check(course_copy) == 1
    release(course_copy)
    for folder in ("solutions", "notebooks"):
        for path in (course_copy / folder).glob("*.ipynb"):
            install = nbformat.read(path, as_version=4).cells[2].source
            assert 'scikit_learn = "9.9.9"' in install, path


def test_flag_table_lists_every_flag():
    table = (ROOT / FLAG_TABLE).read_text()
    for flag in flags().values():
        assert f"| {flag.id} | {flag.chapter}. " in table and flag.title in table
    assert f"{len(flags())} flags" in table


def test_the_student_edition_has_everything_to_publish_but_the_solutions(tmp_path, answers):
    edition = tmp_path / "edition"
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "release", "--student-edition", str(edition)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert not (edition / "solutions").exists() and not (edition / "tests").exists()
    assert (edition / "checks" / "answer_keys.json").is_file()
    toc = yaml.safe_load((edition / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]] + [
        chapter["file"] for part in toc["parts"] for chapter in part["chapters"]
    ]
    for page in pages:
        assert list(edition.glob(page + ".*")), f"{page} is in _toc.yml but not in the edition"
    texts = {
        str(path.relative_to(edition)): path.read_text(encoding="utf-8")
        for path in edition.rglob("*")
        if path.is_file() and path.suffix in {".ipynb", ".md", ".yml", ".json", ".toml", ".py"}
    }
    for name, text in texts.items():
        if name.endswith(".ipynb"):
            assert "# SOLUTION" not in text and "BEGIN SOLUTION" not in text, name
    assert answer_leaks(answers, texts) == []


def test_the_student_edition_never_overwrites(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "release", "--student-edition", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 2 and "not an empty folder" in completed.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_release_refuses_where_there_are_no_solutions_and_deletes_nothing(course_copy):
    # As in a student edition: its own `checks` (which `python -m` imports from the cwd).
    shutil.rmtree(course_copy / "solutions")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "checks", course_copy / "checks", ignore=ignore)
    before = {path: path.read_bytes() for path in (course_copy / "notebooks").glob("*.ipynb")}
    assert before
    for arguments in ([], ["--check"]):
        completed = subprocess.run(
            [sys.executable, "-m", "checks", "release", *arguments],
            cwd=course_copy,
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 2, completed.stdout + completed.stderr
        assert "no solutions/" in completed.stderr and "wrote" not in completed.stdout
        assert len(completed.stderr.strip().splitlines()) == 1, "one line, no traceback"
    after = {path: path.read_bytes() for path in (course_copy / "notebooks").glob("*.ipynb")}
    assert after == before
    with pytest.raises(NoSolutions):
        release(course_copy)


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_committed_notebooks_hold_the_metadata_jupyterlab_writes_back(folder):
    expected = notebook_metadata()
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        metadata = nbformat.read(path, as_version=4).metadata
        assert metadata["kernelspec"] == expected["kernelspec"], path.name
        recorded = dict(metadata["language_info"])
        assert recorded.pop("version"), path.name
        assert recorded == {k: v for k, v in expected["language_info"].items() if k != "version"}


def test_a_notebook_differing_only_by_its_python_version_is_up_to_date(course_copy):
    path = course_copy / "notebooks" / SOLUTIONS[0].name
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["language_info"]["version"] = "3.99.1"
    nbformat.write(notebook, path)
    assert path not in plan_release(course_copy).out_of_date()
    notebook.metadata["language_info"].pop("mimetype")
    nbformat.write(notebook, path)
    assert path in plan_release(course_copy).out_of_date()


def test_every_install_cell_is_the_generated_one():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    expected = install_cell_source(url, pinned_scikit_learn(ROOT))
    for folder in ("solutions", "notebooks"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            cells = nbformat.read(path, as_version=4).cells
            first_code = next(cell for cell in cells if cell.cell_type == "code")
            assert first_code.source == expected, path


def test_the_install_cell_says_in_one_line_how_to_install_the_course(tmp_path):
    url = "https://example.org/fork/mnist-course"
    source = install_cell_source(url, "1.9.1")
    # -I -S: no PYTHONPATH, no site-packages: `checks` cannot be imported.
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", source], cwd=tmp_path, capture_output=True, text=True
    )
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    assert last == (
        "ModuleNotFoundError: The course is not installed: run  "
        f'%pip install "mnist-course @ git+{url}"'
    )
    installed = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True)
    assert installed.returncode == 0 and installed.stdout == "", installed.stderr
