"""The command line, ``python -m checks COMMAND``: parsers that call the package's functions.

Students: list, status, verify. Authors: release, keys, compat. Instructors: grade, report,
export, links.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from checks.catalogue import LABEL_SETS, flags, get_flag, load_catalogue
from checks.layout import course_root, solutions_folder

EXIT_RIGHT, EXIT_WRONG, EXIT_BAD_INPUT = 0, 1, 2
EXIT_SOLUTION_FAILED = 1


def command_list(_: argparse.Namespace) -> int:
    """Print every flag: id, chapter, points, title."""
    catalogue = load_catalogue()
    print(f"{'Flag':<6}{'Ch':>3}  {'Pts':>4}  Title")
    for flag in catalogue.flags.values():
        print(f"{flag.id:<6}{flag.chapter:>3}  {flag.points:>4}  {flag.title}")
    total = sum(flag.points for flag in catalogue.flags.values())
    print(f"{len(catalogue.flags)} flags, {total} points in all.")
    return 0


def command_status(_: argparse.Namespace) -> int:
    """Print this user's progress."""
    from checks.scoreboard import progress
    from checks.store import progress_file

    progress()
    print(f"(saved in {progress_file()})")
    return 0


def parse_value(flag_id: str, text: str) -> object:
    """Turn the command line's text into the kind of value the flag expects.

    A score flag judged against a label set that takes submission files (chapter 9's) takes a
    path too: any text that is not a JSON array is one.
    """
    flag = get_flag(flag_id)
    kind = flag.kind
    if kind == "string":
        return text
    if (
        kind == "score"
        and LABEL_SETS[flag.labels or ""].submission
        and not text.lstrip().startswith("[")
    ):
        return text
    if kind in ("array", "score"):
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            example = "[7, 2, 1, ...]" if kind == "score" else "[[1, 2], [3, 4]]"
            raise ValueError(
                f"expected a JSON array such as {example}, got {text[:40]!r}"
            ) from None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    return int(number) if kind == "integer" and number.is_integer() else number


#: The most ``verify FLAG -`` reads from standard input: a table of predictions is ~200,000.
MAX_STDIN_CHARACTERS = 4_000_000
#: What ``verify`` says under its verdict: it saves nothing, unlike ``checks.check``.
NOTHING_SAVED = (
    "(`verify` only checks: nothing was saved. In a notebook, checks.check() captures the flag.)"
)


def command_verify(arguments: argparse.Namespace) -> int:
    """Judge one value without saving progress: exit 0 right, 1 wrong, 2 bad input."""
    from checks.checker import judge
    from checks.outcome import CORRECT, WRONG

    text = arguments.value
    if text == "-":  # a value too long for a command line (8.3's table): from standard input
        text = sys.stdin.read(MAX_STDIN_CHARACTERS + 1)
        if len(text) > MAX_STDIN_CHARACTERS:
            print(f"error: more than {MAX_STDIN_CHARACTERS:,} characters on standard input",
                  file=sys.stderr)  # fmt: skip
            return EXIT_BAD_INPUT
    try:
        value = parse_value(arguments.flag, text)
    except KeyError as error:  # UnknownFlag
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as error:
        print(f"error: flag {arguments.flag}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    outcome = judge(arguments.flag, value)
    print(outcome)
    if outcome.status in (CORRECT, WRONG):
        print(NOTHING_SAVED)
    if outcome.status == CORRECT:
        return EXIT_RIGHT
    return EXIT_WRONG if outcome.status == WRONG else EXIT_BAD_INPUT


def command_release(arguments: argparse.Namespace) -> int:
    """Write notebooks/ and the flag table from the sources, or with --check say if up to date."""
    from checks.authoring.release import MarkerError, NoSolutions, plan_release, release
    from checks.authoring.speed_budget import release_verdict

    root = course_root()
    if (root / "solutions").is_dir():
        speed = release_verdict(root)
        for line in speed.lines:
            print(line, file=sys.stdout if speed.allowed else sys.stderr)
        if not speed.allowed:
            return 1
    if arguments.student_edition:
        return _student_edition(
            root, Path(arguments.student_edition), arguments.with_instructor_guide
        )
    try:
        if arguments.check:
            out_of_date = plan_release(root).out_of_date()
            for path in out_of_date:
                print(f"out of date: {path.relative_to(root)}", file=sys.stderr)
            if out_of_date:
                print("Run `python -m checks release` and commit the result.", file=sys.stderr)
                return 1
            print("The student notebooks and the flag table are up to date.")
            return 0
        changed = release(root)
    except (MarkerError, NoSolutions) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in changed:
        print(f"wrote {path.relative_to(root)}")
    print(f"{len(changed)} file(s) updated." if changed else "Nothing to do: up to date.")
    return 0


def _student_edition(root: Path, target: Path, with_instructor_guide: bool) -> int:
    from checks.authoring.edition import EditionError, write_student_edition
    from checks.authoring.release import MarkerError, NoSolutions

    try:
        edition = write_student_edition(root, target, with_instructor_guide=with_instructor_guide)
    except (EditionError, MarkerError, NoSolutions) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in edition.rewritten:
        print(f"rewrote {path.relative_to(root)} (in this repository, from solutions/)")
    if not edition.rewritten:
        print("This repository's notebooks/ were up to date: nothing of it was rewritten.")
    names = ", ".join(path.name for path in edition.written)
    print(f"Student edition written to {target} ({names}).")
    guide = "with" if with_instructor_guide else "without"
    print(f"It has no solutions/, and its book is {guide} the instructor guide.")
    for warning in edition.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def command_keys(arguments: argparse.Namespace) -> int:
    """Execute the solutions and rewrite the answer keys."""
    from checks.authoring.keys import regenerate_keys
    from checks.authoring.solution_runs import SolutionFailed

    solutions = Path(arguments.solutions) if arguments.solutions else solutions_folder()
    try:
        changed = regenerate_keys(solutions, chapters=arguments.chapters)
    except SolutionFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOLUTION_FAILED
    print(f"Answer keys for {len(flags())} flags written; changed: {', '.join(changed) or 'none'}.")
    return 0


def command_compat(arguments: argparse.Namespace) -> int:
    """Run the compatibility matrix (or reuse its results) and write its committed outputs."""
    from checks.authoring.compatibility.command import (
        EnvironmentMismatch,
        run_environments,
        write_matrix,
    )
    from checks.authoring.compatibility.declared import DeclarationError
    from checks.authoring.compatibility.environments import EnvironmentFailed
    from checks.authoring.compatibility.matrix import MatrixError
    from checks.authoring.compatibility.results import default_results_file, read_results

    root = course_root()
    results_file = Path(arguments.results) if arguments.results else default_results_file()
    try:
        if arguments.from_results:
            results = read_results(results_file)
        else:
            results = run_environments(
                root,
                arguments.environments,
                results_file,
                rebuild=arguments.rebuild,
                chapters=arguments.chapters,
            )
        matrix = write_matrix(root, results)
    except (DeclarationError, MatrixError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (EnvironmentFailed, EnvironmentMismatch) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOLUTION_FAILED
    sensitive = matrix.sensitive_flags()
    print(
        f"{len(matrix.environments)} environments; version-sensitive flags: "
        f"{', '.join(sensitive) or 'none'}. Results (plain answers, keep private): {results_file}"
    )
    return 0


def command_grade(arguments: argparse.Namespace) -> int:
    """Grade a folder or LMS zip of submissions; exit 0 when every submission has its row."""
    from checks.authoring.solution_runs import SolutionFailed
    from checks.grading.parameters import VariantError, parse_assignments
    from checks.grading.session import GradingInputError, grade_download
    from checks.running.limits import GIB, Limits

    try:
        download = grade_download(
            arguments.submissions,
            roster=arguments.roster,
            out=arguments.out,
            feedback=arguments.feedback,
            variant=parse_assignments(arguments.variant),
            variant_only=arguments.variant_only,
            jobs=arguments.jobs,
            scheduler=arguments.scheduler,
            cluster_certs=arguments.cluster_certs,
            insecure_cluster=arguments.insecure_cluster,
            limits=Limits(
                cell_timeout=arguments.cell_timeout,
                timeout=arguments.timeout,
                memory=int(arguments.memory * GIB),
                processes=arguments.processes,
                run_memory=int(arguments.run_memory * GIB),
                disk=int(arguments.disk * GIB),
            ),
            solutions=arguments.solutions,
            cache_dir=arguments.cache_dir,
            isolation=arguments.isolation,
            report_html=arguments.report,
        )
    except (GradingInputError, VariantError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SolutionFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOLUTION_FAILED
    result = download.grading
    counts = result.status_counts()
    print(
        f"Gradebook: {result.gradebook} ({len(result.grades)} rows: "
        + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        + ")"
    )
    folder = result.feedback[0].parent if result.feedback else "-"
    print(f"Feedback: {len(result.feedback)} page(s) in {folder}/")
    print(f"Isolation: {result.isolation}.")
    if download.submissions is not None:
        print(f"Submissions: {download.submissions} (who handed in what, matched to the roster)")
    print(f"Done in {result.seconds:.0f} s.")
    return 0


def command_report(arguments: argparse.Namespace) -> int:
    """Write the class report (HTML, with plots) of a gradebook."""
    from checks.grading.report import write_report

    gradebook = Path(arguments.gradebook)
    if not gradebook.is_file():
        print(f"error: {gradebook} is not a gradebook file", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = write_report(gradebook, Path(arguments.out) if arguments.out else None)
    print(f"Class report: {out}")
    return 0


def _positive(kind: type) -> object:
    """An argparse type: ``kind`` (int or float), greater than zero."""

    def parse(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _add_grade_parser(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks afresh and write a gradebook and feedback",
        description="Execute every submitted notebook in its own contained kernel, judge the "
        "flags it really computes, and write a gradebook (CSV) and one feedback page per student.",
    )
    grade.add_argument(
        "submissions",
        help="a folder or a .zip as Canvas or Moodle downloads it, or a folder of .ipynb files "
        "or of one folder per student",
    )
    grade.add_argument(
        "--roster",
        metavar="CSV",
        help="the class roster (id,name,email,section; or Canvas's gradebook export): each "
        "submission is matched to a student, and the matches are written beside the gradebook",
    )
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
        "--variant-only",
        action="store_true",
        help="run each notebook once, under the --variant only, and judge it against the "
        "solution under the same parameters (half the runs)",
    )
    grade.add_argument(
        "--jobs", type=_positive(int), default=1, help="submissions run at once (default: 1)"
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask distributed cluster (tls://host:8786, with --cluster-certs) "
        "instead of here",
    )
    grade.add_argument(
        "--cluster-certs",
        metavar="DIR",
        help="the certificates `cluster certs DIR` wrote: the grader connects with its client "
        "certificate, and only machines the course's authority certified share the cluster",
    )
    grade.add_argument(
        "--insecure-cluster",
        action="store_true",
        help="accept a plain tcp:// scheduler (anyone who reaches it can join and return any "
        "grade); the gradebook's run record then warns",
    )
    grade.add_argument("--report", metavar="HTML", help="also write the class report there")
    grade.add_argument(
        "--cell-timeout", type=_positive(int), default=300, help="seconds per cell (default: 300)"
    )
    grade.add_argument(
        "--timeout",
        type=_positive(int),
        default=None,
        help="seconds per run (default: 5 times the chapter's solution, at least 300)",
    )
    grade.add_argument(
        "--memory",
        type=_positive(float),
        default=4.0,
        help="GiB of address space per kernel process (default: 4)",
    )
    grade.add_argument(
        "--processes",
        type=_positive(int),
        default=256,
        help="processes and threads per run (default: 256)",
    )
    grade.add_argument(
        "--run-memory",
        type=_positive(float),
        default=6.0,
        help="GiB of memory per run, its processes and files in memory together (default: 6)",
    )
    grade.add_argument(
        "--disk",
        type=_positive(float),
        default=2.0,
        help="GiB a run may write in its folder (default: 2)",
    )
    grade.add_argument("--solutions", help="solution notebooks, for variants (default: solutions/)")
    grade.add_argument(
        "--cache-dir", help="where solution answers under variants are cached (hashed)"
    )
    grade.add_argument(
        "--isolation",
        choices=("auto", "namespaces", "none"),
        default="auto",
        help="run each submission in Linux namespaces of its own: 'namespaces' requires them, "
        "'auto' (default) uses them where the system allows and warns loudly otherwise, "
        "'none' runs submissions with your rights (only for trusted work)",
    )
    grade.set_defaults(run=command_grade)


def _add_compat_parser(commands: argparse._SubParsersAction) -> None:
    compat = commands.add_parser(
        "compat",
        help="execute the solutions under each declared scikit-learn version: keys and table",
        description="Execute every solution notebook in a cached virtual environment for each "
        "environment declared in pyproject.toml ([tool.mnist-course.compatibility]), compare "
        "each flag's answer with the pinned environment's, and write checks/compatibility.json, "
        "checks/answer_keys_by_version.json and book/compatibility.md.",
    )
    compat.add_argument(
        "--environments",
        nargs="+",
        metavar="NAME",
        help="run only these declared environments; the others' earlier results are reused",
    )
    compat.add_argument(
        "--from-results",
        action="store_true",
        help="execute nothing: rebuild the outputs from the results file",
    )
    compat.add_argument(
        "--results",
        metavar="FILE",
        help="the results file (plain answers; default: ~/.cache/mnist-course/compat/results.json)",
    )
    compat.add_argument("--rebuild", action="store_true", help="recreate the virtual environments")
    compat.add_argument(
        "--chapters",
        nargs="+",
        type=int,
        metavar="N",
        help="run only these chapters' solutions; each environment keeps its earlier answers "
        "to the other chapters",
    )
    compat.set_defaults(run=command_compat)


def command_export(arguments: argparse.Namespace) -> int:
    """Export a gradebook for Canvas, Moodle or Gradescope, or as a plain CSV."""
    from checks.grading.export import ExportError, export_gradebook

    try:
        export = export_gradebook(
            arguments.gradebook,
            arguments.format,
            out=arguments.out,
            roster=arguments.roster,
            percent=arguments.percent,
            assignments=arguments.assignment,
            visibility=arguments.visibility,
        )
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in export.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    unit = "percent" if arguments.percent else "points"
    shown = ", ".join(f"{a.name} ({a.possible} points)" for a in export.assignments)
    graded = sum(line.points is not None for line in export.lines if line.student is not None)
    if not export.paths:
        where = "nothing written"
    elif len(export.paths) == 1:
        where = str(export.paths[0])
    else:
        where = f"{len(export.paths)} files in {os.path.commonpath(export.paths)}"
    print(f"{arguments.format}: {where} ({graded} grade(s) in {unit}; {shown})")
    return 0


def command_links(arguments: argparse.Namespace) -> int:
    """Print one nbgitpuller link per chapter, for a JupyterHub."""
    from checks.authoring.links import LinkError, chapter_links, links_text

    try:
        links = chapter_links(
            course_root(),
            arguments.hub,
            repository=arguments.repo,
            branch=arguments.branch,
            interface=arguments.interface,
        )
    except LinkError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(links_text(links, markdown=arguments.markdown), end="")
    return 0


def command_cluster_certs(arguments: argparse.Namespace) -> int:
    """Write the cluster's certificate authority and each role's certificate and key."""
    from checks.grading.cluster_tls import ClusterSecurityError, write_certificates

    try:
        written = write_certificates(arguments.folder)
    except ClusterSecurityError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in written:
        print(f"{oct(path.stat().st_mode & 0o777)[2:]} {path}")
    print(
        "Give every machine ca.pem; the scheduler its scheduler*.pem, each worker its "
        "worker*.pem; keep ca-key.pem and client*.pem on the grader's machine."
    )
    return 0


def _add_cluster_parser(commands: argparse._SubParsersAction) -> None:
    cluster = commands.add_parser(
        "cluster",
        help="a Dask cluster only your machines can join: its TLS certificates",
        description="Tools for grading on a Dask cluster (grade --scheduler tls://...).",
    )
    actions = cluster.add_subparsers(dest="action", required=True, metavar="ACTION")
    certs = actions.add_parser(
        "certs",
        help="write a certificate authority and the scheduler's, workers' and grader's "
        "certificates and keys (PEM; keys mode 0600)",
        description="Write ca.pem and ca-key.pem (a certificate authority of the course's own), "
        "and scheduler, worker and client certificates and keys it signs, into a new folder: "
        "`dask scheduler` and `dask worker` take them with --tls-ca-file, --tls-cert and "
        "--tls-key, the grader with `grade --cluster-certs DIR`.",
    )
    certs.add_argument("folder", metavar="DIR", help="a new or empty folder")
    certs.set_defaults(run=command_cluster_certs)


def _add_export_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="export a gradebook for Canvas, Moodle or Gradescope, or as a plain CSV",
        description="Write one grade per student per assignment (a chapter, or chapters grouped "
        "with --assignment) in an LMS's import format. Students come from --roster, else from "
        "the roster matched when grading (the gradebook's NAME-submissions.csv), else from the "
        "LMS names. A grade that cannot be given without picking (two notebooks of one chapter, "
        "a grader error) is left blank and named in a warning.",
    )
    export.add_argument("gradebook", help="the gradebook CSV written by `grade`")
    export.add_argument(
        "--format",
        required=True,
        choices=("canvas", "moodle", "gradescope", "csv"),
        help="canvas: gradebook import CSV; moodle: CSV grade import; gradescope: a "
        "results.json per student; csv: a row per student and assignment, with notes",
    )
    export.add_argument("--roster", metavar="CSV", help="match the submissions to this roster")
    unit = export.add_mutually_exclusive_group()
    unit.add_argument(
        "--points",
        action="store_false",
        dest="percent",
        default=False,
        help="grades in points (default)",
    )
    unit.add_argument(
        "--percent", action="store_true", help="grades as percentages, each out of 100"
    )
    export.add_argument(
        "--assignment",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=CHAPTERS",
        help="one LMS assignment made of chapters, e.g. 'Homework 1=1,2' or, to update Canvas's "
        "assignment 12345, 'Chapter 1 (12345)=1' (default: one per chapter, 'Chapter N')",
    )
    export.add_argument(
        "--out",
        help="the file to write (gradescope: a folder, or one .json) (default: beside the "
        "gradebook, NAME-canvas.csv, NAME-moodle.csv, NAME-grades.csv, NAME-gradescope/)",
    )
    export.add_argument(
        "--visibility",
        choices=("visible", "hidden", "after_due_date", "after_published"),
        default="visible",
        help="gradescope: when students see the results (default: visible)",
    )
    export.set_defaults(run=command_export)


def _add_links_parser(commands: argparse._SubParsersAction) -> None:
    links = commands.add_parser(
        "links",
        help="print an nbgitpuller link per chapter, for a JupyterHub",
        description="Print one nbgitpuller link per chapter: clicked, it logs the student in to "
        "the hub, pulls the published student repository (repository.url in _config.yml) and "
        "opens the chapter's notebook.",
    )
    links.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.uni.edu")
    links.add_argument("--repo", help="the student repository (default: _config.yml's)")
    links.add_argument("--branch", help="its branch (default: _config.yml's, else main)")
    links.add_argument(
        "--interface",
        choices=("lab", "notebook"),
        default="lab",
        help="open in JupyterLab (default) or Jupyter Notebook",
    )
    links.add_argument("--markdown", action="store_true", help="print a Markdown table")
    links.set_defaults(run=command_links)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m checks``."""
    parser = argparse.ArgumentParser(prog="python -m checks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list every flag: id, chapter, points, title").set_defaults(
        run=command_list
    )
    commands.add_parser("status", help="show your progress by chapter").set_defaults(
        run=command_status
    )
    verify = commands.add_parser(
        "verify", help="check one value without saving it (exit 0 right, 1 wrong, 2 bad input)"
    )
    verify.add_argument("flag", help='flag id, e.g. "1.1"')
    verify.add_argument(
        "value",
        help="the value; arrays as JSON, e.g. [[1, 2], [3, 4]]; a submission as its path; "
        "- reads it from standard input",
    )
    verify.set_defaults(run=command_verify)
    release = commands.add_parser(
        "release", help="write notebooks/ (student versions) from solutions/"
    )
    release.add_argument(
        "--check",
        action="store_true",
        help="only say whether notebooks/ is up to date (exit 1 if not)",
    )
    release.add_argument(
        "--student-edition",
        metavar="DIR",
        help="write the publishable tree (book, notebooks, checks, configs; no solutions/) to DIR",
    )
    release.add_argument(
        "--with-instructor-guide",
        action="store_true",
        help="with --student-edition: keep the instructor guide in the edition's book",
    )
    release.set_defaults(run=command_release)
    keys = commands.add_parser("keys", help="execute solutions/ and regenerate the answer keys")
    keys.add_argument("--solutions", help="folder of solution notebooks (default: solutions/)")
    keys.add_argument(
        "--chapters",
        nargs="+",
        type=int,
        metavar="N",
        help="run only these chapters' solutions; the other flags keep their keys",
    )
    keys.set_defaults(run=command_keys)
    _add_compat_parser(commands)
    _add_grade_parser(commands)
    _add_cluster_parser(commands)
    report = commands.add_parser(
        "report", help="write the class report (one HTML page, with plots) of a gradebook"
    )
    report.add_argument("gradebook", help="the gradebook CSV written by `grade`")
    report.add_argument("--out", help="the HTML file (default: beside it, NAME-report.html)")
    report.set_defaults(run=command_report)
    _add_export_parser(commands)
    _add_links_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = build_parser().parse_args(argv)
    return arguments.run(arguments)
