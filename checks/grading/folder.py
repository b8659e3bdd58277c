"""Grade a folder of submissions: :func:`grade_folder`, the instructor's entry point."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from checks.answer_keys import AnswerKey, Mistake, load_keys, load_mistakes
from checks.authoring.notebooks import chapter_notebooks, course_notebooks
from checks.catalogue import Flag, chapter_flags
from checks.files import course_cache_dir, course_root
from checks.grading.contained_run import Limits, prepare_mnist, run_submission
from checks.grading.feedback import write_feedback
from checks.grading.gradebook import write_gradebook
from checks.grading.judging import Grade, judge_flag, score_bar
from checks.grading.parameters import VariantError
from checks.grading.status import RunStatus
from checks.grading.submissions import Submission, SubmissionsError, find_submissions
from checks.grading.trust import UntrustedInstallation, verify_installation
from checks.grading.variants import VariantKeys, prepare_variants
from checks.mnist import MnistError
from checks.running.isolation import NONE_WARNING, Isolation, IsolationUnavailable
from checks.running.isolation import choose as choose_isolation


class GradingInputError(ValueError):
    """Grading cannot start: the submissions, the variant, the keys or MNIST are not usable."""


@dataclass(frozen=True)
class Course:
    """What the grader knows while it grades: answer keys, variants, MNIST, limits."""

    keys: dict[str, AnswerKey]
    mnist_dir: Path
    limits: Limits = field(default_factory=Limits)
    variants: dict[int, VariantKeys] = field(default_factory=dict)
    isolation: Isolation = field(default_factory=lambda: Isolation("none"))
    variant_only: bool = False  # run each submission under its chapter's variant only
    #: The declared mistakes of the answer keys: a wrong answer as submitted that is one of them
    #: is told so (not under a variant only: they are the default parameters' values).
    mistakes: dict[str, list[Mistake]] = field(default_factory=dict)


@dataclass(frozen=True)
class GradingResult:
    """What :func:`grade_folder` wrote."""

    grades: list[Grade]
    gradebook: Path
    feedback: list[Path]
    seconds: float
    isolation: str  # "bubblewrap", "unshare" or "none"

    def status_counts(self) -> Counter[str]:
        """How many rows ended each way (every ``error in cell N`` counted as ``error``)."""
        return Counter(grade.status.value for grade in self.grades)


def grade_submission(submission: Submission, course: Course) -> Grade:
    """Run a submission (and again under its chapter's variant), then judge every flag.

    With ``course.variant_only``, a chapter that the variant changes runs once, under the
    variant, and each flag is judged against the solution's answer under the same parameters
    only (the default answer keys are not consulted).
    """
    if submission.problem is not None or submission.chapter is None:
        return Grade(submission, submission.problem or RunStatus.NOT_A_NOTEBOOK)
    variant = course.variants.get(submission.chapter)
    if course.variant_only and variant is not None:
        return _grade_under_variant_only(submission, course, variant)
    run = run_submission(submission, course.mnist_dir, course.limits, None, course.isolation)
    variant_run = (
        run_submission(
            submission, course.mnist_dir, course.limits, variant.parameters, course.isolation
        )
        if variant
        else None
    )
    grades = [
        judge_flag(
            flag,
            run.answers.get(flag.id, []),
            _key(flag, course),
            variant_run.answers.get(flag.id, []) if variant_run else None,
            _variant_key(flag, variant) if variant else None,
            mistakes=course.mistakes.get(flag.id, []),
        )
        for flag in chapter_flags(submission.chapter)
    ]
    return Grade(
        submission,
        run.status,
        grades,
        run.error,
        variant_run.status if variant_run else None,
        variant_run.error if variant_run else None,
        run.seconds + (variant_run.seconds if variant_run else 0.0),
        isolation=course.isolation.mode,
    )


def _key(flag: Flag, course: Course) -> AnswerKey | float | None:
    """What a flag's answer is judged against: its key, or for a score flag its threshold."""
    return score_bar(flag) if flag.kind == "score" else course.keys.get(flag.id)


def _variant_key(flag: Flag, variant: VariantKeys) -> AnswerKey | float | None:
    """What a flag's answer under the variant is judged against (the solution's, there)."""
    if flag.kind != "score":
        return variant.keys.get(flag.id)
    solution_score = variant.scores.get(flag.id)
    return None if solution_score is None else score_bar(flag, solution_score)


def _grade_under_variant_only(
    submission: Submission, course: Course, variant: VariantKeys
) -> Grade:
    """One run, under the variant, judged against the solution under the same parameters."""
    assert submission.chapter is not None
    run = run_submission(
        submission, course.mnist_dir, course.limits, variant.parameters, course.isolation
    )
    grades = [
        judge_flag(flag, run.answers.get(flag.id, []), _variant_key(flag, variant))
        for flag in chapter_flags(submission.chapter)
    ]
    return Grade(
        submission,
        run.status,
        grades,
        run.error,
        seconds=run.seconds,
        isolation=course.isolation.mode,
        variant_only=True,
    )


def grade_all(submissions: list[Submission], course: Course, jobs: int = 1) -> Iterator[Grade]:
    """Grade every submission, ``jobs`` at a time; yield each grade as it is ready.

    A submission that breaks the grader itself (it should not happen) still yields a row, with
    the error as its status, so no submission stops the batch.
    """
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_submission, sub, course): sub for sub in submissions}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a grader bug must not lose the other rows
                yield Grade(futures[future], RunStatus.GRADER_ERROR, detail=str(error))


def _trusted_start(isolation: str, report: Callable[[str], None]) -> tuple[str, Isolation]:
    """Verify the grader's own files and choose the isolation; say both, and return them."""
    try:
        verified = verify_installation()
        contained = choose_isolation(isolation)
    except (UntrustedInstallation, IsolationUnavailable, ValueError) as error:
        raise GradingInputError(str(error)) from error
    report(f"The grader's files match {verified}.")
    report(contained.describe())
    if not contained.isolated:
        report(NONE_WARNING)
    return verified, contained


def _trusted_end(report: Callable[[str], None]) -> None:
    """Warn if the grader's files changed during the session (possible only without isolation)."""
    try:
        verify_installation()
    except UntrustedInstallation as error:
        report(
            f"WARNING: the grader's files changed while grading ({error}): do not trust "
            "this gradebook, restore the course and grade again with --isolation namespaces."
        )


@dataclass(frozen=True)
class _Where:
    """Where the submissions run: ``jobs`` at a time here, or on a Dask cluster."""

    jobs: int = 1
    scheduler: str | None = None
    verified: str = ""
    isolation: str = "auto"


def _grades(found: list[Submission], course: Course, where: _Where) -> Iterator[Grade]:
    """Every submission's grade, from this machine's threads or from the cluster's workers."""
    if where.scheduler is None:
        yield from grade_all(found, course, where.jobs)
        return
    from checks.grading.cluster import Settings, connect, grade_on_cluster

    settings = Settings(
        where.verified, where.isolation, course.limits, course.variants, course.variant_only
    )
    client = connect(where.scheduler)
    try:
        yield from grade_on_cluster(found, settings, client)
    finally:
        client.close()  # type: ignore[attr-defined]


def _grade_into(
    out: Path, found: list[Submission], course: Course, where: _Where, progress_bar: bool
) -> list[Grade]:
    """Grade every submission, rewriting the gradebook as each row arrives, with a progress bar.

    Rows are kept by submission: a submission's row is written once, whatever the cluster does.
    """
    from tqdm import tqdm

    rows: dict[Submission, Grade] = {}
    with tqdm(total=len(found), unit="notebook", file=sys.stderr, disable=not progress_bar) as bar:
        for grade in _grades(found, course, where):
            if grade.submission in rows:
                continue
            rows[grade.submission] = grade
            write_gradebook(out, list(rows.values()))
            bar.set_postfix_str(f"{grade.submission.student}: {grade.status_text}", refresh=False)
            bar.update()
    return list(rows.values())


def _plan(
    count: int,
    variant: Mapping[str, object] | None,
    changed: bool,
    variant_only: bool,
    jobs: int,
    scheduler: str | None,
) -> str:
    """The one line saying what is about to run."""
    shown = " ".join(f"{name}={value}" for name, value in (variant or {}).items())
    where = f"on the Dask cluster {scheduler}" if scheduler else f"{jobs} at a time"
    if changed and variant_only:
        how = f", each once with {shown} (judged under the variant only)"
    elif changed:
        how = f", each also with {shown}"
    else:
        how = ""
    return f"Grading {count} submission(s), {where}{how}."


def grade_folder(
    submissions: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] = "gradebook.csv",
    feedback: str | os.PathLike[str] | None = None,
    variant: Mapping[str, object] | None = None,
    variant_only: bool = False,
    jobs: int = 1,
    scheduler: str | None = None,
    limits: Limits | None = None,
    solutions: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    isolation: str = "auto",
    report: Callable[[str], None] = print,
    progress_bar: bool = True,
    report_html: str | os.PathLike[str] | None = None,
    relabel: Callable[[list[Submission]], list[Submission]] | None = None,
) -> GradingResult:
    """Run every submitted notebook afresh and contained, and write a gradebook and feedback.

    Each notebook is executed in its own kernel and temporary folder, with time and memory
    limits, and in Linux namespaces of its own (no network, no view of the course, the caches,
    the other submissions or the grader; every process it starts dies with it). The grader
    judges the values the kernel computed (never what it printed). With a ``variant``, each
    notebook also runs with those parameter values and a flag pays only if it is right both
    ways, so typed-in answers earn nothing. Before anything runs, the grader checks that its own
    files (code, flags, answer keys) are those it was installed or checked out as.

    Parameters
    ----------
    submissions : str or path-like
        A folder of notebooks (the student is the file's name) or of one folder per student
        (the whole folder is copied for the run).
    out : str or path-like, default="gradebook.csv"
        The gradebook to write: a row per student and notebook, a column per flag. It is
        rewritten atomically after every submission.
    feedback : str or path-like, default=None
        The folder for one Markdown feedback page per student; by default ``NAME-feedback/``
        beside ``out``.
    variant : mapping of str to object, default=None
        Parameter values for a second run of every notebook, for example
        ``{"target_digit": "3", "random_state": 7}``. Values are typed like each chapter's
        defaults; a name no chapter has is an error.
    variant_only : bool, default=False
        Run each submission once, under the ``variant`` only (needs one), and judge each flag
        against the solution's answer under the same parameters: half the runs of a variant,
        and a typed-in answer still earns nothing. A chapter the variant does not change is run
        as submitted and judged against the answer keys.
    jobs : int, default=1
        Submissions run at once on this machine. Each gets ``cpu_count // jobs`` threads.
    scheduler : str, default=None
        The address of a Dask distributed scheduler (``tcp://host:8786``): each submission is
        then graded by one of its workers, which must have the course installed at the same
        commit (:mod:`checks.grading.cluster`); ``jobs`` is then ignored.
    limits : Limits, default=None
        Seconds per cell and per run, and bytes of memory per process; by default 300 s, 1800 s
        and 4 GiB. Its ``threads`` field is set from ``jobs``.
    solutions : str or path-like, default=None
        The solution notebooks, run under the variant; by default the course's ``solutions/``.
    cache_dir : str or path-like, default=None
        Where the solutions' answers under variants are cached (as salted hashes, signed with
        the grader's secret); by default ``~/.cache/mnist-course/variants``.
    isolation : {"auto", "namespaces", "none"}, default="auto"
        ``"namespaces"`` runs each submission in its own Linux namespaces (bubblewrap, else
        unshare) and fails if they are not available; ``"auto"`` does so where it can and
        otherwise runs without isolation, as ``"none"`` does, with a loud warning.
    report : callable, default=print
        Receives each progress message.
    progress_bar : bool, default=True
        Show a progress bar over the submissions (on standard error).
    report_html : str or path-like, default=None
        Also write the class report there: one self-contained HTML page with plots
        (:mod:`checks.grading.report`).
    relabel : callable, default=None
        Given the submissions found, returns them as they are to be graded: an LMS download's
        names and roster matches (:func:`checks.grading.lms.grade_download` passes one).

    Returns
    -------
    GradingResult
        The grades, in the order they finished, and the paths written.

    Raises
    ------
    GradingInputError
        The submissions folder is missing or empty, the variant names an unknown parameter or
        a value of the wrong type, there are no answer keys, MNIST cannot be loaded, the
        grader's own files differ from their installed or committed version, or namespaces
        were asked for and are not available.
    checks.authoring.solution_runs.SolutionFailed
        A solution notebook fails under the variant.

    See Also
    --------
    checks.check : What a student's kernel calls for each flag (recorded while graded).

    Examples
    --------
    >>> from checks.grading import grade_folder
    >>> result = grade_folder("submissions/", variant={"target_digit": "3"})  # doctest: +SKIP
    >>> result.status_counts()  # doctest: +SKIP
    Counter({'ok': 41, 'error': 2, 'timeout': 1})
    """
    started = time.perf_counter()
    if jobs < 1:
        raise GradingInputError(f"jobs must be at least 1, got {jobs}")
    if variant_only and not variant:
        raise GradingInputError("--variant-only needs a --variant to run the submissions under")
    out = Path(out)
    verified, contained = _trusted_start(isolation, report)
    try:
        keys, mistakes = load_keys(), load_mistakes()
    except ValueError as error:  # a key file in an unknown or old format
        raise GradingInputError(f"the answer keys cannot be read ({error})") from error
    if not keys:
        raise GradingInputError("no answer keys; run `python -m checks keys` first")
    root = course_root()
    limits = limits or Limits()
    limits = Limits(
        limits.cell_timeout, limits.timeout, limits.memory, max(1, (os.cpu_count() or 1) // jobs)
    )
    try:
        stems = {chapter: path.stem for chapter, path in course_notebooks(root).items()}
        found = find_submissions(Path(submissions), stems)
        if relabel is not None:
            found = relabel(found)
        variants = {}
        if variant:
            variants = prepare_variants(
                {name: str(value) for name, value in variant.items()},
                chapter_notebooks(Path(solutions) if solutions else root / "solutions"),
                {submission.chapter for submission in found if submission.chapter is not None},
                Path(cache_dir) if cache_dir else course_cache_dir() / "variants",
                cell_timeout=limits.cell_timeout,
                report=report,
            )
    except (SubmissionsError, VariantError, FileNotFoundError) as error:
        raise GradingInputError(str(error)) from error
    with tempfile.TemporaryDirectory(prefix="checks-grading-") as scratch:
        try:
            mnist_dir = prepare_mnist(Path(scratch) / "mnist", report)
        except MnistError as error:
            raise GradingInputError(str(error)) from error
        course = Course(
            keys, mnist_dir, limits, variants, contained, variant_only, mistakes=mistakes
        )
        report(_plan(len(found), variant, bool(variants), variant_only, jobs, scheduler))
        where = _Where(jobs, scheduler, verified, isolation)
        grades = _grade_into(out, found, course, where, progress_bar)
    pages = write_feedback(
        Path(feedback) if feedback else out.with_name(f"{out.stem}-feedback"), grades
    )
    if report_html is not None:
        from checks.grading.report import write_report

        report(f"Class report: {write_report(out, Path(report_html))}")
    _trusted_end(report)
    return GradingResult(grades, out, pages, time.perf_counter() - started, contained.mode)
