"""``python -m checks grade SUBMISSIONS --out gradebook.csv``: the instructor's batch grading."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from checks.files import course_cache_dir, course_root

EXIT_BAD_INPUT, EXIT_SOLUTION_FAILED = 2, 1


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def add_grade_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``grade`` command to the ``python -m checks`` parser."""
    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks afresh and write a gradebook and feedback",
        description="Execute every submitted notebook in its own contained kernel, judge the "
        "flags it really computes, and write a gradebook (CSV) and one feedback page per student.",
    )
    grade.add_argument("submissions", help="folder of .ipynb files, or of one folder per student")
    grade.add_argument("--out", default="gradebook.csv", help="the gradebook CSV to write")
    grade.add_argument(
        "--feedback", help="folder for the feedback pages (default: beside --out, NAME-feedback/)"
    )
    grade.add_argument(
        "--variant",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="also run each notebook with these parameters (e.g. target_digit=3 random_state=7);"
        " a flag then counts only if right both ways",
    )
    grade.add_argument(
        "--jobs", type=_positive(int), default=1, help="submissions run at once (default: 1)"
    )
    grade.add_argument(
        "--cell-timeout", type=_positive(int), default=300, help="seconds per cell (default: 300)"
    )
    grade.add_argument(
        "--timeout", type=_positive(int), default=1800, help="seconds per run (default: 1800)"
    )
    grade.add_argument(
        "--memory",
        type=_positive(float),
        default=4.0,
        help="GiB of address space per kernel process (default: 4)",
    )
    grade.add_argument("--solutions", help="solution notebooks, for variants (default: solutions/)")
    grade.add_argument(
        "--cache-dir", help="where solution answers under variants are cached (hashed)"
    )
    grade.set_defaults(run=command_grade)


def _stems(root: Path) -> dict[int, str]:
    folder = root / "solutions" if (root / "solutions").is_dir() else root / "notebooks"
    return {
        int(path.stem[:2]): path.stem
        for path in sorted(folder.glob("*.ipynb"))
        if path.stem[:2].isdigit()
    }


def _prepare_variants(arguments: argparse.Namespace, root: Path, chapters: set[int]) -> dict:
    """Run (or read from the cache) each needed solution under the variant."""
    from checks.variants import (
        chapter_parameters,
        notebook_parameters,
        parse_assignments,
        variant_keys,
    )

    requested = parse_assignments(arguments.variant)
    solutions = Path(arguments.solutions) if arguments.solutions else root / "solutions"
    notebooks = {int(path.stem[:2]): path for path in sorted(solutions.glob("[0-9][0-9]_*.ipynb"))}
    if not notebooks:
        raise FileNotFoundError(
            f"variants need the solution notebooks, and {solutions} has none (use --solutions)"
        )
    by_chapter = chapter_parameters(
        requested, {chapter: notebook_parameters(path) for chapter, path in notebooks.items()}
    )
    cache = Path(arguments.cache_dir) if arguments.cache_dir else course_cache_dir() / "variants"
    variants = {}
    for chapter in sorted(chapters):
        parameters = by_chapter.get(chapter)
        if not parameters:
            print(
                f"Chapter {chapter} has none of these parameters: its flags are judged as "
                "submitted only."
            )
            continue
        keys = variant_keys(
            notebooks[chapter], chapter, parameters, cache, cell_timeout=arguments.cell_timeout
        )
        if keys.unchanged:
            print(
                f"Warning: the variant does not change flag(s) {', '.join(keys.unchanged)}: a "
                "hard-coded answer would still earn them. Choose other values to cover them."
            )
        variants[chapter] = keys
    return variants


def _chapters_present(submissions: list, stems: dict[int, str]) -> set[int]:
    from checks.submissions import chapter_of, read_notebook

    chapters = set()
    for submission in submissions:
        notebook = read_notebook(submission.path) if submission.is_notebook_file else None
        if notebook is not None:
            chapter = chapter_of(notebook, submission.name, stems)
            if chapter is not None:
                chapters.add(chapter)
    return chapters


def command_grade(arguments: argparse.Namespace) -> int:
    """Grade a folder of submissions; exit 0 when every submission has its row."""
    from tqdm import tqdm

    from checks.gradebook import write_feedback, write_gradebook
    from checks.grading import GIB, Course, Limits, grade_all, prepare_mnist
    from checks.hashing import load_keys
    from checks.mnist import MnistError
    from checks.submissions import SubmissionsError, find_submissions
    from checks.variants import SolutionFailed, VariantError

    started = time.perf_counter()
    root = course_root()
    out = Path(arguments.out)
    feedback = (
        Path(arguments.feedback) if arguments.feedback else out.with_name(f"{out.stem}-feedback")
    )
    keys = load_keys()
    if not keys:
        print("error: no answer keys; run `python -m checks keys` first", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        submissions = find_submissions(Path(arguments.submissions))
        stems = _stems(root)
        variants = (
            _prepare_variants(arguments, root, _chapters_present(submissions, stems))
            if arguments.variant
            else {}
        )
    except (SubmissionsError, VariantError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolutionFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOLUTION_FAILED
    limits = Limits(
        cell_timeout=arguments.cell_timeout,
        timeout=arguments.timeout,
        memory=int(arguments.memory * GIB),
        threads=max(1, (os.cpu_count() or 1) // arguments.jobs),
    )
    with tempfile.TemporaryDirectory(prefix="checks-grading-") as scratch:
        try:
            mnist_dir = prepare_mnist(Path(scratch) / "mnist")
        except MnistError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        course = Course(keys, stems, mnist_dir, limits, variants)
        grades = []
        print(
            f"Grading {len(submissions)} submission(s), {arguments.jobs} at a time"
            + (f", each also with {' '.join(arguments.variant)}" if variants else "")
            + "."
        )
        with tqdm(total=len(submissions), unit="notebook", file=sys.stderr) as bar:
            for grade in grade_all(submissions, course, arguments.jobs):
                grades.append(grade)
                write_gradebook(out, grades)
                bar.set_postfix_str(f"{grade.submission.student}: {grade.status}", refresh=False)
                bar.update()
    pages = write_feedback(feedback, grades)
    statuses = Counter(
        "error" if grade.status.startswith("error in cell") else grade.status for grade in grades
    )
    print(
        f"Gradebook: {out} ({len(grades)} rows: "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        + ")"
    )
    print(f"Feedback: {len(pages)} page(s) in {feedback}/")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0
