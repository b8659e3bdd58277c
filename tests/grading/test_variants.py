"""The documented variants move every flag: run each solution with them, and no answer may stay.

A flag whose answer the variant leaves unchanged would still pay a typed-in answer under
``--variant``. The runs use the grader's own code (``variant_keys``), so what is proved here is
what grading relies on; the guide's table is written from the same file (``release --check``).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from conftest import ROOT

from checks.authoring.variant_set import load_variant_set, variant_table
from checks.catalogue import chapter_flags
from checks.grading.parameters import notebook_parameters
from checks.grading.variant_keys import VariantKeys
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


# The ten runs go two at a time: most of a chapter's cells use one core of two. The slowest
# variants start first, so no long run is left alone at the end. The order is the variant runs'
# own (one at a time, fresh-clone CI at 32dccd0: chapter 2 116 s, 7 80 s, 6 57 s, 10 53 s, 3 51 s,
# 9 45 s, 4 40 s, 1 38 s, 8 36 s, 5 33 s), not benchmarks/timings.json's, which times the defaults.
LONGEST_FIRST = [2, 7, 6, 10, 3, 9, 4, 1, 8, 5]


@pytest.fixture(scope="module")
def variant_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Future]]:
    """Each documented variant's keys, computed by the grader's code, two runs at a time."""
    cache = tmp_path_factory.mktemp("variants")
    order = [chapter for chapter in LONGEST_FIRST if chapter in VARIANTS]
    order += [chapter for chapter in sorted(VARIANTS) if chapter not in order]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            chapter: pool.submit(
                variant_keys,
                SOLUTIONS[chapter],
                chapter,
                VARIANTS[chapter],
                cache,
                report=lambda message: None,
            )
            for chapter in order
        }
        yield runs
        for run in runs.values():
            run.cancel()


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(VARIANTS))
def test_the_documented_variant_changes_every_flag_of_the_chapter(chapter, variant_runs):
    keys: VariantKeys = variant_runs[chapter].result()
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
