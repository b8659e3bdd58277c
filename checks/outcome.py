"""The result of checking one flag, shown as rich HTML in a notebook and plain text elsewhere.

:func:`checks.check` shows its :class:`Outcome` at once and returns it, so a flag cell needs no
``;``: the outcome remembers the cell that showed it, and IPython's display of the cell's value
(``_ipython_display_``) does not show it a second time there.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace

from checks.catalogue import Flag

CORRECT, WRONG, UNANSWERED, INVALID, NO_KEY = "correct", "wrong", "unanswered", "invalid", "no key"

#: status -> (symbol, CSS colour, headline). The colours are JupyterLab's theme variables, which
#: each theme (light, dark) sets to a shade readable on its background; elsewhere (Colab, VS
#: Code, the book) the fallback, or the text's own colour for "Not answered yet".
_STYLE = {
    CORRECT: ("✔", "var(--jp-success-color0, #1a7f37)", "Correct"),
    WRONG: ("✘", "var(--jp-error-color1, #cf222e)", "Not quite"),
    UNANSWERED: ("○", "var(--jp-content-font-color2, currentColor)", "Not answered yet"),
    INVALID: ("⚠", "var(--jp-warn-color0, #9a6700)", "Can't check this value"),
    NO_KEY: ("⚠", "var(--jp-warn-color0, #9a6700)", "No answer key"),
}

#: What a wrong answer that is still captured from earlier is told.
STILL_CAPTURED = "Your earlier right answer still counts: this flag stays captured."


def verdict_text(headline: str, detail: str, targeted: bool = False) -> str:
    """A verdict and what it says, as one sentence: the one wording of check() and the grader.

    Parameters
    ----------
    headline : str
        The verdict, such as ``"Not quite"``.
    detail : str
        What is said with it: the flag's hint (``"Hint: ..."``) or a declared mistake's hint.
    targeted : bool, default False
        Whether ``detail`` names the student's mistake (a declared mistake was recognised).

    Returns
    -------
    str
        ``"Not quite — <the mistake named>"`` when targeted, else ``"Not quite. Hint: ..."``.
    """
    if not detail:
        return f"{headline}."
    return f"{headline} \N{EM DASH} {detail}" if targeted else f"{headline}. {detail}"


@dataclass(frozen=True)
class Totals:
    """Points captured so far, in the flag's chapter and in the whole course."""

    chapter_points: int
    chapter_possible: int
    course_points: int
    course_possible: int


@dataclass(frozen=True)
class Outcome:
    """What :func:`checks.check` found: truthy when the flag is captured, and shown once.

    In a notebook it shows as rich HTML, in a terminal as one or two lines of text. The cell
    that :func:`checks.check` showed it in does not show it again as its value.
    """

    flag_id: str
    status: str
    detail: str
    flag: Flag | None = None
    totals: Totals | None = None
    targeted: bool = False  # the detail is a declared mistake's hint
    still_captured: bool = False  # a wrong answer to a flag captured earlier
    _shown_in: list[object] = field(default_factory=list, compare=False, repr=False)

    @property
    def correct(self) -> bool:
        """Whether this answer is right."""
        return self.status == CORRECT

    def __bool__(self) -> bool:
        """True when the answer is right: ``if checks.check(...):`` reads as it says."""
        return self.correct

    def with_totals(
        self, totals: Totals, *, detail: str | None = None, still: bool = False
    ) -> Outcome:
        """A copy with the running totals (and a new detail, or the note of an earlier capture)."""
        return replace(
            self,
            totals=totals,
            detail=self.detail if detail is None else detail,
            still_captured=still,
            _shown_in=[],
        )

    def _title(self) -> str:
        if self.flag is None:
            return f"Flag {self.flag_id}"
        return self.flag.heading

    def _score(self) -> str:
        if self.totals is None:
            return ""
        t = self.totals
        return (
            f"Chapter {self.flag.chapter}: {t.chapter_points}/{t.chapter_possible} pts · "  # type: ignore[union-attr]
            f"course: {t.course_points}/{t.course_possible} pts"
        )

    def _notes(self) -> list[str]:
        return [STILL_CAPTURED] if self.still_captured else []

    def __str__(self) -> str:
        """One to three lines of plain text, for terminals and logs."""
        symbol, _, headline = _STYLE[self.status]
        lines = [f"{symbol} {self._title()}: {verdict_text(headline, self.detail, self.targeted)}"]
        lines += [f"  {line}" for line in [*self._notes(), self._score()] if line]
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Plain text, as :meth:`__str__`."""
        return str(self)

    def _repr_html_(self) -> str:
        symbol, colour, headline = _STYLE[self.status]
        notes = "".join(f"<div>{html.escape(note)}</div>" for note in self._notes())
        score = self._score()
        score_html = (
            f'<div style="opacity:.75;font-size:90%">{html.escape(score)}</div>' if score else ""
        )
        return (
            f'<div class="checks-outcome checks-{self.status.replace(" ", "-")}" '
            f'style="border-left:4px solid {colour};padding:.4em .8em;margin:.3em 0;'
            f'background:rgba(127,127,127,.06)">'
            f'<strong style="color:{colour}">{symbol} {html.escape(headline)}</strong> '
            f"— {html.escape(self._title())}"
            f"<div>{html.escape(self.detail)}</div>{notes}{score_html}</div>"
        )

    def _ipython_display_(self) -> None:
        """Show in IPython (rich in a notebook), unless :func:`show` already did in this cell.

        IPython calls this for ``display(outcome)`` and for a cell whose last expression is the
        outcome, as in a flag cell ``checks.check("1.1", answer)``: shown once, by the call.
        """
        shell = _shell()
        if shell is not None and _cell(shell) in self._shown_in:
            return
        from IPython.display import display

        display({"text/plain": str(self), "text/html": self._repr_html_()}, raw=True)


def _shell() -> object | None:
    """The running IPython shell (a kernel or a terminal), or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _cell(shell: object) -> object:
    """Which cell runs now: the shell and its execution count (the same in one cell)."""
    return (id(shell), getattr(shell, "execution_count", None))


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (JupyterLab, Colab, nbclient...)."""
    shell = _shell()
    return shell is not None and hasattr(shell, "kernel")


def show(item: object) -> None:
    """Display an outcome or a scoreboard: rich in a notebook, printed in a terminal.

    An outcome shown in an IPython cell is not shown again as that cell's value.

    Parameters
    ----------
    item : object
        An :class:`Outcome` or a :class:`~checks.scoreboard.Scoreboard`.
    """
    shell = _shell()
    if shell is None:
        print(item)
        return
    from IPython.display import display

    display(item)
    if isinstance(item, Outcome):
        item._shown_in.append(_cell(shell))
