"""The result of checking one flag, shown as rich HTML in a notebook and plain text elsewhere."""

from __future__ import annotations

import html
from dataclasses import dataclass

from checks.catalogue import Flag

CORRECT, WRONG, UNANSWERED, INVALID, NO_KEY = "correct", "wrong", "unanswered", "invalid", "no key"

_STYLE = {  # status -> (symbol, colour, headline)
    CORRECT: ("✔", "#1a7f37", "Correct"),
    WRONG: ("✘", "#cf222e", "Not quite"),
    UNANSWERED: ("○", "#57606a", "Not answered yet"),
    INVALID: ("⚠", "#9a6700", "Can't check this value"),
    NO_KEY: ("⚠", "#9a6700", "No answer key"),
}


@dataclass(frozen=True)
class Totals:
    """Points captured so far, in the flag's chapter and in the whole course."""

    chapter_points: int
    chapter_possible: int
    course_points: int
    course_possible: int


@dataclass(frozen=True)
class Outcome:
    """What :func:`checks.check` found, ready to be shown."""

    flag_id: str
    status: str
    detail: str
    flag: Flag | None = None
    totals: Totals | None = None

    @property
    def correct(self) -> bool:
        """Whether the flag was captured by this answer."""
        return self.status == CORRECT

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

    def __str__(self) -> str:
        """One or two lines of plain text, for terminals and logs."""
        symbol, _, headline = _STYLE[self.status]
        line = f"{symbol} {self._title()}: {headline}. {self.detail}".rstrip()
        score = self._score()
        return f"{line}\n  {score}" if score else line

    def __repr__(self) -> str:
        """Plain text, so a notebook's text/plain output reads well too."""
        return str(self)

    def _repr_html_(self) -> str:
        symbol, colour, headline = _STYLE[self.status]
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
            f"<div>{html.escape(self.detail)}</div>{score_html}</div>"
        )


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (JupyterLab, Colab, nbclient...)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def show(item: object) -> None:
    """Display an outcome or a scoreboard: rich in a notebook, printed in a terminal."""
    if in_notebook():
        from IPython.display import display

        display(item)
    else:
        print(item)
