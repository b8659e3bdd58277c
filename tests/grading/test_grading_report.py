"""The class report: a self-contained HTML page with plots, from a (synthetic) gradebook."""

from __future__ import annotations

import base64
import csv
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from checks.catalogue import flags
from checks.grading.gradebook import FIXED_COLUMNS, TRAILING_COLUMNS
from checks.grading.report import report_html, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def synthetic_gradebook(path, mistakes: bool = False) -> None:
    """A class of 30 across chapters 1 and 2, with errors, a timeout and a hostile name."""
    chapter_flags = {c: [f for f in flags().values() if f.chapter == c] for c in (1, 2)}
    columns = [*FIXED_COLUMNS, *flags(), *TRAILING_COLUMNS]
    if mistakes:
        columns.append("mistake 1.3")
    rows = []
    for number in range(30):
        for chapter, chapter_list in chapter_flags.items():
            status = "ok"
            if number % 11 == 3:
                status = "error in cell 7"
            if number == 5 and chapter == 2:
                status = "timeout"
            row = dict.fromkeys(columns, "")
            student = f"student{number:02d}" if number != 3 else '\'=HYPERLINK("x")<b>'
            row.update(
                student=student,
                notebook=f"0{chapter}.ipynb",
                chapter=str(chapter),
                status=status,
                isolation="bubblewrap",
                seconds=str(20 + chapter * 40 + number),
            )
            got = 0
            for index, flag in enumerate(chapter_list):
                points = flag.points if (number + index) % 4 else 0
                row[flag.id] = str(points)
                got += points
            row.update(total=str(got), possible=str(sum(f.points for f in chapter_list)))
            if mistakes and chapter == 1:
                row["mistake 1.3"] = "forgot to shuffle" if number % 2 else "used the test set"
            rows.append(row)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, quoting=csv.QUOTE_NONNUMERIC)
        writer.writeheader()
        writer.writerows(rows)


def images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r"data:image/png;base64,([^\"]+)", page)]


def test_the_report_has_every_section_and_embedded_png_plots(tmp_path):
    gradebook = tmp_path / "gradebook.csv"
    synthetic_gradebook(gradebook)
    page = write_report(gradebook).read_text(encoding="utf-8")
    for section in ("totals", "flags", "statuses", "times"):
        assert f'<section id="{section}">' in page
    assert 'id="mistakes"' not in page  # no declared mistakes in the gradebook: no section
    pictures = images(page)
    assert len(pictures) == 3 and all(p.startswith(PNG_SIGNATURE) for p in pictures)
    assert not re.search(r'(src|href)="(?!data:)', page)  # no external asset
    # The neutralised, hostile name is shown as text, escaped.
    assert "&#x27;=HYPERLINK(&quot;x&quot;)&lt;b&gt;" in page and '<b>"' not in page
    assert "<b>timeout</b> (1): student05" in page


def test_declared_mistakes_appear_only_when_the_gradebook_has_them(tmp_path):
    gradebook = tmp_path / "gradebook.csv"
    synthetic_gradebook(gradebook, mistakes=True)
    page = write_report(gradebook, tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="mistakes">' in page and "forgot to shuffle (15)" in page


def test_an_empty_gradebook_still_makes_a_page():
    page = report_html([], "Class report")
    assert "<h1>Class report</h1>" in page


def test_the_command_line_writes_the_report(tmp_path):
    gradebook = tmp_path / "gradebook.csv"
    synthetic_gradebook(gradebook)
    out = tmp_path / "class.html"
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "report", str(gradebook), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.is_file() and f"Class report: {out}" in completed.stdout


def test_the_report_renders_in_a_browser(tmp_path, browser):
    gradebook = tmp_path / "gradebook.csv"
    synthetic_gradebook(gradebook)
    report = write_report(gradebook)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(report.as_uri())
    loaded = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(SCREENSHOTS / "class-report.png"), full_page=True)
    page.close()
    assert loaded == [True, True, True] and not failed
    if not (SCREENSHOTS / "class-report.png").is_file():
        pytest.fail("no screenshot")
