"""A grading session: :func:`grade_folder`, the instructor's entry point.

The session checks the grader's own files and chooses the isolation, finds and classifies the
submissions, prepares the variants and MNIST, then has each submission graded by
:func:`checks.grading.step.grade_submission`: ``jobs`` at a time by this machine's threads, or by
the workers of a Dask cluster (:mod:`checks.grading.cluster`), all with the one
:class:`~checks.grading.settings.Settings`. It rewrites the gradebook as each row arrives, then
writes the feedback pages and, if asked, the class report.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from checks.grading.cluster import check_access, cluster_client, grade_on_cluster
from checks.grading.cluster_tls import INSECURE_WARNING
from checks.grading.contained_run import prepare_mnist
from checks.grading.feedback import write_feedback
from checks.grading.gradebook import write_gradebook
from checks.grading.judging import Grade
from checks.grading.lms import (
    Matching,
    is_lms_download,
    match_submissions,
    opened_download,
    submissions_file,
    write_submissions_file,
)
from checks.grading.lms import describe as describe_matching
from checks.grading.parameters import VariantError
from checks.grading.roster import RosterError, read_roster
from checks.grading.run_record import session_record, write_run_record
from checks.grading.safe_zip import ZipLimits
from checks.grading.settings import GradingInputError, Settings
from checks.grading.status import RunStatus
from checks.grading.step import Bench, course_keys, grade_submission, trusted_machine
from checks.grading.submissions import Submission, SubmissionsError, find_submissions
from checks.grading.trust import UntrustedInstallation, verify_installation
from checks.grading.variants import prepare_variants
from checks.grading.withheld import prepare_withheld
from checks.layout import (
    chapter_notebooks,
    course_notebooks,
    course_root,
    solutions_folder,
    variants_cache,
)
from checks.mnist import MnistError
from checks.running.confinement import group_kind, notices
from checks.running.isolation import NONE_WARNING, Isolation, IsolationUnavailable
from checks.running.limits import Limits


@dataclass(frozen=True)
class GradingResult:
    """What :func:`grade_folder` wrote."""

    grades: list[Grade]
    gradebook: Path
    feedback: list[Path]
    seconds: float
    isolation: str  # "bubblewrap", "unshare" or "none"
    notices: list[str] = field(default_factory=list)  # the limits this machine cannot enforce

    def status_counts(self) -> Counter[str]:
        """How many rows ended each way (every ``error in cell N`` counted as ``error``)."""
        return Counter(grade.status.value for grade in self.grades)


def grade_all(submissions: list[Submission], settings: Settings, bench: Bench) -> Iterator[Grade]:
    """Grade every submission here, ``settings.jobs`` at a time; yield each grade as it is ready.

    A submission that breaks the grader itself (it should not happen) still yields a row, with
    the error as its status, so no submission stops the batch.
    """
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        futures = {
            pool.submit(grade_submission, submission, settings, bench): submission
            for submission in submissions
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a grader bug must not lose the other rows
                yield Grade(futures[future], RunStatus.GRADER_ERROR, detail=str(error))


def _trusted_start(isolation: str, report: Callable[[str], None]) -> tuple[str, Isolation]:
    """Verify the grader's own files and choose the isolation; say both, and return them."""
    try:
        verified, contained = trusted_machine(isolation)
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
class ClusterAccess:
    """How the grader reaches a cluster's scheduler: its certificates, or plain tcp:// accepted."""

    certificates: Path | None = None
    insecure: bool = False


def _grades(
    found: list[Submission], settings: Settings, bench: Bench, access: ClusterAccess
) -> Iterator[Grade]:
    """Every submission's grade, from this machine's threads or from the cluster's workers."""
    if settings.scheduler is None:
        yield from grade_all(found, settings, bench)
        return
    with cluster_client(settings.scheduler, access.certificates, access.insecure) as client:
        yield from grade_on_cluster(found, settings, client)


def _grade_into(
    out: Path,
    found: list[Submission],
    settings: Settings,
    bench: Bench,
    progress_bar: bool,
    access: ClusterAccess,
) -> list[Grade]:
    """Grade every submission, rewriting the gradebook as each row arrives, with a progress bar.

    Rows are kept by submission: a submission's row is written once, whatever the cluster does.
    """
    from tqdm import tqdm

    rows: dict[Submission, Grade] = {}
    with tqdm(total=len(found), unit="notebook", file=sys.stderr, disable=not progress_bar) as bar:
        for grade in _grades(found, settings, bench, access):
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
    cluster_certs: str | os.PathLike[str] | None = None,
    insecure_cluster: bool = False,
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
        The address of a Dask distributed scheduler (``tls://host:8786``): each submission is
        then graded by one of its workers, which must have the course installed at the same
        commit (:mod:`checks.grading.cluster`); ``jobs`` is then ignored.
    cluster_certs : str or path-like, default=None
        The folder ``python -m checks cluster certs`` wrote: the grader connects to a
        ``tls://`` scheduler with its client certificate (mutual TLS).
    insecure_cluster : bool, default=False
        Accept a plain ``tcp://`` scheduler (refused otherwise); the run record beside the
        gradebook then carries a warning.
    limits : Limits, default=None
        What each run may use (:class:`~checks.running.limits.Limits`): by default 300 s a
        cell, 5 times the chapter's solution a run (:func:`~checks.grading.step.run_timeout`),
        4 GiB a process, 6 GiB and 256 processes a run, 2 GiB of disk. Its ``threads`` field is
        set from ``jobs``. The limits this machine cannot enforce are reported at the start
        and written into the run record beside the gradebook.
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
        grader's own files differ from their installed or committed version, namespaces
        were asked for and are not available, or the cluster's address is refused (plain
        ``tcp://`` without ``insecure_cluster``, ``tls://`` without ``cluster_certs``) or
        cannot be reached.
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
    if scheduler is not None:  # refused before anything is done
        check_access(scheduler, Path(cluster_certs) if cluster_certs else None, insecure_cluster)
    verified, contained = _trusted_start(isolation, report)
    keys, mistakes = course_keys()
    root = course_root()
    limits = replace(limits or Limits(), threads=max(1, (os.cpu_count() or 1) // jobs))
    unenforced = notices(limits, isolated=contained.isolated, tmpfs_capped=contained.caps_tmpfs)
    for line in unenforced:
        report(line)
    warnings = []
    if scheduler is not None and insecure_cluster and not scheduler.startswith("tls://"):
        warnings.append(INSECURE_WARNING)
        report(INSECURE_WARNING)
    record = session_record(scheduler, warnings) | {
        "verified": verified,
        "isolation": contained.describe(),
        "control groups": group_kind() or "none",
        "limits": asdict(limits),
        "not enforced": unenforced,
    }
    try:
        stems = {chapter: path.stem for chapter, path in course_notebooks(root).items()}
        found = find_submissions(Path(submissions), stems)
        if relabel is not None:
            found = relabel(found)
        variants = {}
        if variant:
            variants = prepare_variants(
                {name: str(value) for name, value in variant.items()},
                chapter_notebooks(Path(solutions) if solutions else solutions_folder(root)),
                {submission.chapter for submission in found if submission.chapter is not None},
                Path(cache_dir) if cache_dir else variants_cache(),
                cell_timeout=limits.cell_timeout,
                report=report,
            )
    except (SubmissionsError, VariantError, FileNotFoundError) as error:
        raise GradingInputError(str(error)) from error
    # Written once the inputs are accepted (a refused command line leaves no file) and before any
    # submission runs; rewritten with the counts at the end.
    write_run_record(out, record)
    settings = Settings(limits, isolation, variants, variant_only, jobs, scheduler, verified)
    with tempfile.TemporaryDirectory(prefix="checks-grading-") as scratch:
        try:
            mnist_dir = prepare_mnist(Path(scratch) / "mnist", report)
        except MnistError as error:
            raise GradingInputError(str(error)) from error
        withheld = prepare_withheld(mnist_dir, Path(scratch) / "withheld")
        bench = Bench(verified, contained, keys, mistakes, mnist_dir, withheld)
        report(_plan(len(found), variant, bool(variants), variant_only, jobs, scheduler))
        access = ClusterAccess(Path(cluster_certs) if cluster_certs else None, insecure_cluster)
        grades = _grade_into(out, found, settings, bench, progress_bar, access)
    write_gradebook(out, grades)  # even with no row graded, the gradebook is written
    pages = write_feedback(
        Path(feedback) if feedback else out.with_name(f"{out.stem}-feedback"), grades
    )
    if report_html is not None:
        from checks.grading.report import write_report

        try:
            report(f"Class report: {write_report(out, Path(report_html))}")
        except Exception as error:  # the gradebook stands; the report is a view of it
            report(f"WARNING: the class report could not be written ({error})")
    _trusted_end(report)
    seconds = time.perf_counter() - started
    record.update(
        submissions=len(found),
        statuses=dict(Counter(grade.status.value for grade in grades)),
        seconds=round(seconds, 1),
    )
    write_run_record(out, record)
    return GradingResult(grades, out, pages, seconds, contained.mode, unenforced)


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`grade_download` wrote: the grading's result, and the submissions file."""

    grading: GradingResult
    submissions: Path | None
    matching: Matching | None


def grade_download(
    download: str | os.PathLike[str],
    *,
    roster: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "gradebook.csv",
    report: Callable[[str], None] = print,
    zip_limits: ZipLimits | None = None,
    **options: Any,
) -> DownloadResult:
    """Grade a class as its LMS downloads it (a folder or a zip), matched to a roster.

    A plain folder without a roster is graded exactly as :func:`grade_folder` grades it (and a
    submissions file an earlier grading left beside ``out`` is removed). A zip,
    a Canvas or Moodle layout, or a roster also writes the submissions file beside the gradebook
    (:func:`~checks.grading.lms.submissions_file`): each submission's LMS name, user id,
    lateness and roster student (or why none), and each roster student who handed in nothing.

    Parameters
    ----------
    download : str or path-like
        A folder, or a ``.zip`` whose every member is checked before anything is extracted
        (:func:`~checks.grading.safe_zip.extract_zip`).
    roster : str or path-like, default=None
        The class roster CSV (:func:`~checks.grading.roster.read_roster`).
    out : str or path-like, default="gradebook.csv"
        The gradebook to write.
    report : callable, default=print
        Receives each progress message.
    zip_limits : ZipLimits, default=None
        Caps on a zip's members and bytes.
    **options
        Any other keyword argument of :func:`grade_folder`.

    Returns
    -------
    DownloadResult
        The grading's result, the submissions file (None for a plain folder without a roster)
        and the matching.

    Raises
    ------
    GradingInputError
        The download is neither a folder nor a zip, the zip is refused (one line naming the
        member), the roster cannot be read, or :func:`grade_folder` cannot start.

    Examples
    --------
    >>> grade_download("submissions.zip", roster="roster.csv", jobs=2)  # doctest: +SKIP
    """
    try:
        class_roster = read_roster(roster) if roster is not None else None
    except RosterError as error:
        raise GradingInputError(str(error)) from None
    out = Path(out)
    is_zip = not Path(download).is_dir()
    with opened_download(download, zip_limits) as folder:
        if not (is_zip or is_lms_download(folder) or class_roster):
            # The gradebook is rewritten: a submissions file of an earlier grading would pair
            # it with matches it no longer has.
            submissions_file(out).unlink(missing_ok=True)
            return DownloadResult(
                grade_folder(folder, out=out, report=report, **options), None, None
            )
        written: list[Matching] = []

        def relabel(found: list[Submission]) -> list[Submission]:
            matching = match_submissions(found, class_roster)
            write_submissions_file(submissions_file(out), matching)
            for line in describe_matching(matching):
                report(line)
            written.append(matching)
            return [m.submission for m in matching.submissions]

        result = grade_folder(folder, out=out, report=report, relabel=relabel, **options)
    return DownloadResult(result, submissions_file(out), written[0] if written else None)
