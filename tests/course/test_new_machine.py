"""A new user's first hour: the README's `make book`, on a clean clone, from an empty home.

The session's book (conftest.built_book) is that build: `make book` in a clean copy of the
repository, with the run's own empty home. These tests check what it wrote, that it trained the
draw page's model itself (nothing was waiting in a cache), and that a second `make book` with
nothing changed is quick.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import yaml
from conftest import HOME_VARIABLES, NEW_CLONE, TEST_HOME, book_environment, make_command

from checks.authoring import draw_page
from checks.own_digit.draw_model import cached_model_path

SECOND_BUILD_SECONDS = 30


def toc_pages(root: Path) -> list[str]:
    """Every page `_toc.yml` lists, as `folder/name` without its suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def test_the_run_has_its_own_home_and_nothing_else(isolated_home, tmp_path):
    # conftest's isolated_home gives each test its own progress store and MNIST cache on top.
    per_test = {"CHECKS_HOME", "MNIST_CACHE_DIR"}
    for name, path in HOME_VARIABLES.items():
        value = Path(os.environ[name])
        assert value.is_relative_to(tmp_path if name in per_test else TEST_HOME), name
        if name not in per_test:
            assert value == path, name


def test_make_book_writes_every_page_the_draw_page_and_its_model(built_book, book_started):
    assert built_book == NEW_CLONE / "_build" / "html"
    pages = toc_pages(NEW_CLONE)
    assert len(pages) >= 12 and any(page.startswith("notebooks/") for page in pages)
    missing = [page for page in pages if not (built_book / f"{page}.html").is_file()]
    assert not missing, f"make book did not write {missing}"
    for script in (draw_page.SCRIPT, draw_page.MODEL):
        assert (built_book / draw_page.ASSET_FOLDER / script).stat().st_size > 0, script
    # The draw model was trained and cached by this run, in its empty home: none was reused.
    model = cached_model_path()
    assert model.is_relative_to(TEST_HOME)
    assert model.is_file() and model.stat().st_mtime >= book_started


def test_a_second_make_book_with_nothing_changed_is_quick(built_book):
    started = time.perf_counter()
    completed = subprocess.run(
        make_command(NEW_CLONE, "book"), env=book_environment(), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert seconds <= SECOND_BUILD_SECONDS, f"the second `make book` took {seconds:.1f} s"
