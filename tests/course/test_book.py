"""The HTML book: it builds, holds no solution code and no answer, and renders in a browser."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import BUILD, ROOT, answer_leaks, make_book

from checks.authoring.release import BEGIN, END, LINE_MARK

CHAPTERS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))
BOOK_PAGES = ["intro", "getting_started", "flags", "timings", "flag_table", "instructors"]
SCREENSHOTS = BUILD / "screenshots"


def test_a_notebook_that_raises_fails_the_build(tmp_path):
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "book" / "intro.md").write_text("# A broken book\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/broken\n"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("1 / 0")]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / "notebooks" / "broken.ipynb")
    completed = make_book(tmp_path)
    assert completed.returncode != 0
    assert "ZeroDivisionError" in completed.stdout + completed.stderr


class TextExtractor(HTMLParser):
    """The visible text of a page's main content, without scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(page: Path) -> str:
    extractor = TextExtractor()
    extractor.feed(page.read_text(encoding="utf-8"))
    return " ".join(extractor.parts)


def test_every_chapter_and_page_is_built(built_book):
    for chapter in CHAPTERS:
        assert (built_book / "notebooks" / f"{chapter}.html").is_file()
    for page in BOOK_PAGES:
        assert (built_book / "book" / f"{page}.html").is_file()


def test_the_timings_page_gives_every_chapter_its_time(built_book):
    text = page_text(built_book / "book" / "timings.html")
    for chapter in CHAPTERS:
        # myst-nb's execution table: the chapter, when it ran, how long (seconds), whether it ran.
        row = re.search(
            rf"{chapter}\s+\S+ \S+\s+(?:cache|force)\s+(?P<seconds>\d+\.\d+)\s+✅", text
        )
        assert row, f"{chapter} has no timing on the page: {text[:2000]}"
        assert float(row["seconds"]) > 0


def test_a_progress_bar_is_one_output_in_the_book(built_book):
    """tqdm redraws its bar after a carriage return: the book shows its last state only."""
    text = page_text(built_book / "notebooks" / "09_neural_networks.html")
    for bar in ("MLP epochs", "CNN epochs"):
        states = re.findall(rf"{bar}:\s+\d+%", text)
        assert len(states) == 1, f"{bar}: {states}"
        assert f"{bar}: 100%" in text


def solution_lines() -> list[str]:
    """Every line of solution code in solutions/, without its marker."""
    lines = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                stripped = line.strip()
                if stripped in (BEGIN, END):
                    inside = stripped == BEGIN
                elif inside or stripped.endswith(LINE_MARK):
                    code = stripped.removesuffix(LINE_MARK).strip()
                    if code:
                        lines.append(code)
    return lines


def test_no_solution_code_in_the_html(built_book):
    lines = solution_lines()
    assert lines, "no solution code found to search for"
    pages = {page: page_text(page) for page in built_book.rglob("*.html")}
    for line in lines:
        leaks = [str(page.relative_to(built_book)) for page, text in pages.items() if line in text]
        assert not leaks, f"solution code {line!r} appears in {leaks}"


def test_no_answer_in_the_html(built_book, answers):
    pages = {
        str(page.relative_to(built_book)): page_text(page) for page in built_book.rglob("*.html")
    }
    assert not answer_leaks(answers, pages)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_in_a_browser(browser, built_book, chapter):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failed_requests: list[str] = []
    page.on("requestfailed", lambda request: failed_requests.append(request.url))
    page.goto((built_book / "notebooks" / f"{chapter}.html").as_uri())
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{chapter}.png"), full_page=True)

    text = page.inner_text("main")
    assert len(text) > 2000, f"{chapter} looks blank ({len(text)} characters of text)"
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])"
    )
    draws = "plt.show()" in (ROOT / "notebooks" / f"{chapter}.ipynb").read_text()
    figures = [src for src, _ in images if "/_images/" in src]
    assert figures or not draws, "the chapter draws figures, but the page shows none"
    broken = [src for src, ok in images if not ok]
    assert not broken, f"broken images: {broken}"
    for service in ("colab.research.google.com", "mybinder.org"):
        assert page.locator(f'a[href*="{service}"]').count() >= 1, f"no {service} launch button"
    local_failures = [url for url in failed_requests if url.startswith("file:")]
    assert not local_failures, f"missing files: {local_failures}"
    page.close()
