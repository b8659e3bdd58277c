"""The student edition: what it holds, what making it reports, and that it works on its own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import BUILD, ROOT

from checks.authoring.edition import (
    INSTRUCTOR_GUIDE,
    same_repository,
    write_student_edition,
)
from checks.catalogue import load_catalogue

SCREENSHOTS = BUILD / "screenshots"


def make_edition(target: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checks", "release", "--student-edition", str(target), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def toc_files(edition: Path) -> list[str]:
    toc = yaml.safe_load((edition / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def makefile_targets(makefile: Path) -> tuple[list[str], set[str]]:
    """The .PHONY names, in order, and every target the Makefile defines."""
    text = makefile.read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE)
    defined = set(re.findall(r"^([\w.$()/-]+):(?!=)", text, re.MULTILINE))
    return (phony[1].split() if phony else []), defined


def test_the_edition_leaves_the_instructor_guide_out_unless_asked(tmp_path):
    without, with_guide = tmp_path / "without", tmp_path / "with"
    completed = make_edition(without)
    assert completed.returncode == 0, completed.stderr
    assert "without the instructor guide" in completed.stdout
    assert not (without / f"{INSTRUCTOR_GUIDE}.md").exists()
    assert INSTRUCTOR_GUIDE not in toc_files(without)
    for page in toc_files(without):
        assert list(without.glob(page + ".*")), f"{page} is in _toc.yml but not in the edition"
    for page in (without / "book").glob("*.md"):
        assert "instructors" not in page.read_text(encoding="utf-8"), f"a link in {page.name}"

    assert make_edition(with_guide, "--with-instructor-guide").returncode == 0
    assert (with_guide / f"{INSTRUCTOR_GUIDE}.md").is_file()
    assert INSTRUCTOR_GUIDE in toc_files(with_guide)


def test_the_edition_has_a_students_readme_and_makefile(tmp_path):
    edition = tmp_path / "edition"
    assert make_edition(edition).returncode == 0
    readme = (edition / "README.md").read_text(encoding="utf-8")
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert f"git clone {url}" in readme
    for instructor_word in ("solutions/", "answer_keys", ".ci/run", "checks grade", "pytest"):
        assert instructor_word not in readme, instructor_word
    for notebook in (edition / "notebooks").glob("*.ipynb"):
        assert f"`notebooks/{notebook.name}`" in readme
    phony, defined = makefile_targets(edition / "Makefile")
    assert phony and set(phony) <= defined, f"dangling .PHONY names: {set(phony) - defined}"
    for instructor_target in ("test", "lint", "release", "keys", "benchmark"):
        assert instructor_target not in defined
    for command in re.findall(r"`make (\w+)`", readme):
        assert command in phony, f"the README names `make {command}`, which is not there"


def instructor_copy(tmp_path: Path) -> Path:
    """A copy of the instructor repository (solutions included), to make editions from."""
    root = tmp_path / "course"
    ignore = shutil.ignore_patterns("__pycache__", "_build", "*.egg-info")
    for folder in ("solutions", "notebooks", "book", "checks"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("_config.yml", "_toc.yml", "pyproject.toml", "Makefile", "README.md"):
        shutil.copy(ROOT / name, root / name)
    return root


def test_making_the_edition_reports_the_instructors_notebooks_it_rewrote(tmp_path):
    root = instructor_copy(tmp_path)
    worked = root / "notebooks" / "01_mnist_binary.ipynb"
    notebook = nbformat.read(worked, as_version=4)
    notebook.cells[-1].source += "\n# my own notes"
    nbformat.write(notebook, worked)
    edition = write_student_edition(root, tmp_path / "edition")
    assert edition.rewritten == [worked]
    assert "# my own notes" not in worked.read_text(encoding="utf-8")
    assert write_student_edition(root, tmp_path / "again").rewritten == []


def test_making_the_edition_warns_when_the_repository_url_is_the_instructors_remote(tmp_path):
    root = instructor_copy(tmp_path)
    url = yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert write_student_edition(root, tmp_path / "quiet").warnings == []
    ssh = url.replace("https://github.com/", "git@github.com:") + ".git"
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", ssh], check=True)
    warnings = write_student_edition(root, tmp_path / "loud").warnings
    assert len(warnings) == 1 and "published student repository" in warnings[0]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("https://github.com/a/b", "git@github.com:a/b.git", True),
        ("https://github.com/a/b/", "ssh://git@github.com/A/B.git", True),
        ("https://github.com/a/b", "https://github.com/a/b-students", False),
        ("https://github.com/a/b", "https://gitlab.com/a/b", False),
    ],
)
def test_same_repository(first, second, same):
    assert same_repository(first, second) is same


def run_make(edition: Path, target: str, venv: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH: the edition's own `checks`, in the kernels too (not the instructor's install).
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env["PYTHONPATH"] = str(edition)
    return subprocess.run(
        ["make", target, f"VENV={venv}"], cwd=edition, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_every_make_target_of_the_edition_works_and_nothing_deletes_notebooks(
    tmp_path, built_book, browser
):
    edition = tmp_path / "edition"
    assert make_edition(edition).returncode == 0
    notebooks = {path.name: path.read_bytes() for path in (edition / "notebooks").glob("*.ipynb")}
    assert notebooks

    # `release` is the instructor's: in the edition it refuses, and deletes nothing.
    refused = subprocess.run(
        [sys.executable, "-m", "checks", "release"], cwd=edition, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "no solutions/" in refused.stderr
    assert run_make(edition, "release", tmp_path / "unused").returncode != 0

    # `setup` creates a venv and pip-installs the course from PyPI: its commands are checked
    # here, not run. The targets then use this test's own environment (the same pins), through
    # a venv folder of the test's: links to this environment's folders, its own stamp.
    fresh = tmp_path / "fresh-venv"
    dry = subprocess.run(
        ["make", "-n", "setup", f"VENV={fresh}"], cwd=edition, capture_output=True, text=True
    )
    assert dry.returncode == 0 and f"-m venv {fresh}" in dry.stdout
    extras = re.findall(r'-e "\.\[([\w,]+)\]"', dry.stdout)
    project = tomllib.loads((edition / "pyproject.toml").read_text(encoding="utf-8"))
    assert extras == ["course,deep"], dry.stdout  # chapter 9's CNN needs Keras: the deep extra
    deep = project["project"]["optional-dependencies"]["deep"]
    assert any(pin.startswith("keras") for pin in deep), "chapter 9 needs Keras from `make setup`"
    assert any(
        pin.startswith("jupyter-book")
        for pin in project["project"]["optional-dependencies"]["course"]
    ), "`make book` needs jupyter-book from the extra `make setup` installs"
    venv = tmp_path / "venv"
    venv.mkdir()
    ours = Path(sys.prefix)
    for entry in ours.iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()

    # The edition's notebooks are the instructor's, byte for byte: their executions, cached by
    # the instructor's book build, are reused instead of executing the five chapters again.
    for name, content in notebooks.items():
        assert (ROOT / "notebooks" / name).read_bytes() == content, name
    shutil.copytree(built_book.parent / ".jupyter_cache", edition / "_build" / ".jupyter_cache")

    phony, _ = makefile_targets(edition / "Makefile")
    durations = {}
    for target in phony:
        started = time.perf_counter()
        completed = run_make(edition, target, venv)
        durations[target] = time.perf_counter() - started
        assert completed.returncode == 0, (
            f"make {target}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
        if target == "book":
            html = edition / "_build" / "html"
            for page in toc_files(edition):
                assert (html / f"{page}.html").is_file(), page
            assert not (html / f"{INSTRUCTOR_GUIDE}.html").exists()
            for notebook in notebooks:
                chapter = (html / "notebooks" / notebook).with_suffix(".html")
                assert 'class="cell_output' in chapter.read_text(encoding="utf-8"), notebook
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((html / "book" / "intro.html").as_uri())
            page.wait_for_load_state("load")
            assert page.locator('a[href*="instructors"]').count() == 0
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "student_edition_front_page.png"))
            page.close()
        if target == "status":
            for title in load_catalogue().chapters.values():
                assert title in completed.stdout, completed.stdout
        if target == "clean":
            assert not (edition / "_build").exists()
    print("\nmake targets of the edition:", {t: f"{s:.1f} s" for t, s in durations.items()})
    after = {path.name: path.read_bytes() for path in (edition / "notebooks").glob("*.ipynb")}
    assert after == notebooks, "a make target changed or deleted the edition's notebooks"
