"""Benchmark grading one full, correct submission per chapter: with a variant, and variant-only.

Not a test: it prints the seconds per submission for the README and the projected hours for a
class. Run from the repository root (each chapter's solution notebook is the submission):

    .venv/bin/python benchmarks/grading_modes.py 1                 # chapter 1, both modes
    .venv/bin/python benchmarks/grading_modes.py 3 4 5 --variant n_small=1000 n_images=4000

The solutions' answers under the variant are computed (and cached) before the timed runs, so
each figure is the grading of the submission alone: kernel start, copies and judging included.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from checks.grading import grade_folder
from checks.grading.parameters import parse_assignments
from checks.grading.variants import prepare_variants
from checks.layout import chapter_notebooks

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VARIANT = ["random_state=7", "target_digit=3"]


def grade_once(submissions: Path, out: Path, variant: dict, variant_only: bool, cache: Path):
    """Grade the folder once, quietly; return (seconds of the row, wall seconds, total)."""
    started = time.perf_counter()
    result = grade_folder(
        submissions,
        out=out,
        variant=variant,
        variant_only=variant_only,
        cache_dir=cache,
        report=lambda message: None,
        progress_bar=False,
    )
    grade = result.grades[0]
    return grade.seconds, time.perf_counter() - started, grade.total, grade.possible


def main() -> None:
    """Measure each chapter asked for in both modes; print a JSON line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", type=int)
    parser.add_argument("--variant", nargs="+", default=DEFAULT_VARIANT, metavar="KEY=VALUE")
    arguments = parser.parse_args()
    variant = parse_assignments(arguments.variant)
    solutions = chapter_notebooks(ROOT / "solutions")
    with tempfile.TemporaryDirectory(prefix="grading-modes-") as scratch:
        base = Path(scratch)
        cache = base / "cache"
        for chapter in arguments.chapters:
            folder = base / f"chapter{chapter}"
            folder.mkdir()
            shutil.copy(solutions[chapter], folder / f"student_{solutions[chapter].name}")
            # Warm the variant cache: the solution's run under the variant is not timed.
            prepare_variants(
                {name: str(value) for name, value in variant.items()},
                solutions,
                {chapter},
                cache,
                report=lambda message: None,
            )
            for variant_only in (False, True):
                row, wall, total, possible = grade_once(
                    folder, base / "gradebook.csv", variant, variant_only, cache
                )
                print(
                    json.dumps(
                        {
                            "chapter": chapter,
                            "mode": "variant-only" if variant_only else "variant",
                            "variant": arguments.variant,
                            "run_seconds": round(row, 1),
                            "wall_seconds": round(wall, 1),
                            "points": f"{total}/{possible}",
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
