"""A flag's title and points have one home, checks/flags.toml: the notebooks' headings follow it."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT

from checks.authoring.release import flag_headings, student_version, with_catalogue_headings
from checks.catalogue import chapter_flags, get_flag
from checks.layout import chapter_notebooks

SOLUTIONS = chapter_notebooks(ROOT / "solutions")


@pytest.mark.parametrize("chapter", sorted(SOLUTIONS))
def test_each_flag_of_a_chapter_has_the_catalogue_heading_in_its_solution(chapter):
    headings = flag_headings(nbformat.read(SOLUTIONS[chapter], as_version=4))
    expected = {flag.id: f"### {flag.heading}" for flag in chapter_flags(chapter)}
    assert headings == expected


def test_a_heading_that_drifted_is_rewritten_from_the_catalogue_in_the_student_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Intro\n\n### Flag 2.1 – An old title (99 pts)\n\nText")
    ]
    student = student_version(notebook, "test")
    assert flag_headings(student) == {"2.1": f"### {get_flag('2.1').heading}"}
    assert student.cells[0].source.startswith("Intro\n\n") and student.cells[0].source.endswith(
        "Text"
    )


def test_a_heading_naming_an_unknown_flag_is_refused():
    with pytest.raises(ValueError, match=r"flag 9\.99"):
        with_catalogue_headings("### Flag 9.99 – Nothing (1 pts)", "test")
