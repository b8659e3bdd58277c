"""The documented variants move every flag: run each solution with them, and no answer may stay.

A flag whose answer the variant leaves unchanged would still pay a typed-in answer under
``--variant``. The runs use the grader's own code (``variant_keys``), so what is proved here is
what grading relies on; the guide's table is written from the same file (``release --check``).
"""

from __future__ import annotations

import pytest
from conftest import ROOT

from checks.authoring.variant_set import load_variant_set, variant_table
from checks.catalogue import chapter_flags
from checks.grading.parameters import notebook_parameters
from checks.grading.variants import variant_keys
from checks.layout import chapter_notebooks

SOLUTIONS = chapter_notebooks(ROOT / "solutions")
VARIANTS = load_variant_set(ROOT)


def test_every_chapter_has_a_documented_variant():
    assert sorted(VARIANTS) == sorted(SOLUTIONS)


@pytest.mark.parametrize("chapter", sorted(VARIANTS))
def test_a_documented_variant_names_only_the_chapters_parameters_with_their_types(chapter):
    defaults = notebook_parameters(SOLUTIONS[chapter])
    for name, value in VARIANTS[chapter].items():
        assert name in defaults, f"chapter {chapter} has no parameter {name}"
        assert type(value) is type(defaults[name]), name
        assert value != defaults[name], f"{name} keeps its default"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(VARIANTS))
def test_the_documented_variant_changes_every_flag_of_the_chapter(chapter, tmp_path_factory):
    keys = variant_keys(
        SOLUTIONS[chapter],
        chapter,
        VARIANTS[chapter],
        tmp_path_factory.mktemp("variants"),
        report=lambda message: None,
    )
    exact = [flag.id for flag in chapter_flags(chapter) if flag.keyed]
    assert sorted(keys.keys) == sorted(exact)
    assert keys.unchanged == [], f"chapter {chapter}: the variant leaves {keys.unchanged} unchanged"
    # A score flag needs no variant to move it (its answer is the predictions), but the
    # solution must still reach a score under the variant, the grader's bar for submissions.
    assert sorted(keys.scores) == sorted(f.id for f in chapter_flags(chapter) if not f.keyed)


def test_the_guide_table_lists_each_documented_variant():
    table = variant_table(ROOT)
    for chapter in VARIANTS:
        assert f"| {chapter} | `" in table
    assert (ROOT / "book" / "variant_table.md").read_text(encoding="utf-8") == table
