"""``progress()``: a table of the flags captured, chapter by chapter, with the total."""

from __future__ import annotations

import html
from dataclasses import dataclass

from checks import store
from checks.catalogue import chapter_flags, load_catalogue
from checks.outcome import show

_LEFT = ' style="text-align:left"'


@dataclass(frozen=True)
class ChapterRow:
    """One line of the scoreboard."""

    chapter: int
    title: str
    captured: int
    flags: int
    points: int
    possible: int


@dataclass(frozen=True)
class Scoreboard:
    """Every chapter's line and the course total; shows as HTML in a notebook, text elsewhere."""

    rows: list[ChapterRow]
    note: str | None = None  # one line when the progress store could not be read

    @property
    def points(self) -> int:
        """Points captured in the whole course."""
        return sum(row.points for row in self.rows)

    @property
    def possible(self) -> int:
        """Points available in the whole course."""
        return sum(row.possible for row in self.rows)

    def __str__(self) -> str:
        """A plain-text table."""
        width = max([len(row.title) for row in self.rows] + [5])
        lines = [f"{'Ch':>2}  {'Title':<{width}}  {'Flags':>5}  {'Points':>9}"]
        for row in self.rows:
            lines.append(
                f"{row.chapter:>2}  {row.title:<{width}}  {row.captured:>2}/{row.flags:<2}  "
                f"{row.points:>4}/{row.possible:<4}"
            )
        lines.append(f"{'':>2}  {'Total':<{width}}  {'':>5}  {self.points:>4}/{self.possible:<4}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Plain text, for notebooks' text/plain output."""
        return str(self)

    def _repr_html_(self) -> str:
        """An HTML table; titles left-aligned (JupyterLab right-aligns table cells)."""
        cells = "".join(
            f"<tr><td>{row.chapter}</td><td{_LEFT}>{html.escape(row.title)}</td>"
            f"<td>{row.captured}/{row.flags}</td><td>{row.points}/{row.possible}</td></tr>"
            for row in self.rows
        )
        return (
            f'<table class="checks-progress"><thead><tr><th>Chapter</th><th{_LEFT}>Title</th>'
            "<th>Flags</th><th>Points</th></tr>"
            f"</thead><tbody>{cells}<tr><td></td><td{_LEFT}><strong>Total</strong></td><td></td>"
            f"<td><strong>{self.points}/{self.possible}</strong></td></tr></tbody></table>"
            + (f"<p>{html.escape(self.note)}</p>" if self.note else "")
        )


def scoreboard() -> Scoreboard:
    """Build the scoreboard from this user's progress file (what can be read of it)."""
    catalogue = load_catalogue()
    read = store.snapshot()
    records = read.records
    rows = []
    for chapter, title in catalogue.chapters.items():
        in_chapter = chapter_flags(chapter)
        captured = [
            flag for flag in in_chapter if records.get(flag.id) and records[flag.id].captured
        ]
        rows.append(
            ChapterRow(
                chapter,
                title,
                len(captured),
                len(in_chapter),
                sum(flag.points for flag in captured),
                sum(flag.points for flag in in_chapter),
            )
        )
    return Scoreboard(rows, read.problem)


def progress() -> None:
    """Show your progress: the flags captured and the points, chapter by chapter, with the total.

    Progress is saved on your machine in ``$CHECKS_HOME/progress.json`` (default
    ``~/.mnist-course``) each time :func:`checks.check` judges an answer, so it survives
    closing the notebook. In a notebook the table is rich HTML; in a terminal, plain text.

    Returns
    -------
    None
        The table is displayed, not returned.

    See Also
    --------
    checks.check : Check an answer and capture its flag.

    Examples
    --------
    >>> import checks
    >>> checks.progress()  # doctest: +SKIP
    Ch  Title                                      Flags     Points
     1  MNIST and a binary classifier               2/4     20/50
    ...
    """
    show(scoreboard())
