"""The class report: one self-contained HTML page, with plots, from a gradebook CSV.

``grade ... --report report.html`` and ``python -m checks report gradebook.csv`` write it. The
page has no external asset: the plots are made with matplotlib (Agg) and embedded as PNG data
URIs, so it opens offline and can be mailed. Its sections: the distribution of the students'
totals, the share of the class capturing each flag, the statuses other than ``ok`` with the
students concerned, and the run time per chapter. Every text from the gradebook is HTML-escaped
and shown as it is written there (a cell that starts with ``'`` was neutralised against CSV
injection by :func:`~checks.grading.gradebook.neutralised`).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from checks.catalogue import flags
from checks.files import atomic_write_text
from checks.grading.gradebook import MISTAKE_PREFIX

# The gradebook's ``mistake FLAG`` columns hold, for a wrong answer that is one of the flag's
# declared mistakes (``checks.mistake`` in the solutions), that mistake's hint: the class report
# lists the most frequent per flag. A gradebook without any leaves the section out.


def read_gradebook(path: Path) -> list[dict[str, str]]:
    """The rows of a gradebook CSV, as text."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _png(draw: Callable[[object], None], size: tuple[float, float] = (7.0, 3.2)) -> str:
    """An ``<img>`` of what ``draw(axes)`` plots, as an embedded PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def student_totals(rows: list[dict[str, str]]) -> dict[str, tuple[float, float]]:
    """Each student's points and possible points over every notebook."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        totals[row["student"]][0] += _number(row.get("total")) or 0.0
        totals[row["student"]][1] += _number(row.get("possible")) or 0.0
    return {student: (got, possible) for student, (got, possible) in totals.items()}


def capture_shares(rows: list[dict[str, str]]) -> dict[str, float]:
    """For each flag, the share of its chapter's graded notebooks that captured it."""
    shares = {}
    for flag_id, flag in flags().items():
        graded = [row for row in rows if row.get("chapter") == str(flag.chapter)]
        if graded:
            captured = sum(1 for row in graded if (_number(row.get(flag_id)) or 0) > 0)
            shares[flag_id] = captured / len(graded)
    return shares


def status_groups(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Every status other than ``ok`` (``error in cell N`` counted as ``error``), with who."""
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for column in ("status", "variant_status"):
            status = row.get(column, "")
            if status in ("", "ok") or status.startswith("judged under"):
                continue
            kind = "error" if status.startswith("error in cell") else status.split(":")[0]
            label = kind if column == "status" else f"{kind} (under the variant)"
            groups[label].append(f"{row['student']} ({row.get('notebook', '')}: {status})")
    return dict(sorted(groups.items()))


def seconds_by_chapter(rows: list[dict[str, str]]) -> dict[str, list[float]]:
    """The run time of every graded notebook, by chapter."""
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        seconds = _number(row.get("seconds"))
        if row.get("chapter") and seconds:
            times[row["chapter"]].append(seconds)
    return dict(sorted(times.items(), key=lambda item: int(item[0])))


def declared_mistakes(rows: list[dict[str, str]]) -> dict[str, list[tuple[str, int]]]:
    """The most frequent declared mistakes per flag, if the gradebook has them (see above)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for column, value in row.items():
            if column and column.startswith(MISTAKE_PREFIX) and value:
                found[column.removeprefix(MISTAKE_PREFIX)][value] += 1
    return {
        flag_id: sorted(counts.items(), key=lambda item: -item[1])[:5]
        for flag_id, counts in sorted(found.items())
    }


def _totals_section(rows: list[dict[str, str]]) -> str:
    totals = student_totals(rows)
    percents = [100 * got / possible for got, possible in totals.values() if possible]

    def draw(axes) -> None:
        axes.hist(percents, bins=range(0, 105, 5), color="#4c72b0", edgecolor="white")
        axes.set_xlabel("share of the points handed in for (%)")
        axes.set_ylabel("students")
        axes.set_xlim(0, 100)

    mean = f"{sum(percents) / len(percents):.0f} %" if percents else "-"
    return (
        '<section id="totals"><h2>Distribution of totals</h2>'
        f"<p>{len(totals)} student(s), {len(rows)} notebook(s); mean {mean} of the points of "
        f"the notebooks handed in.</p>{_png(draw)}</section>"
    )


def _flags_section(rows: list[dict[str, str]]) -> str:
    shares = capture_shares(rows)
    names = list(shares)

    def draw(axes) -> None:
        axes.bar(names, [100 * shares[name] for name in names], color="#55a868")
        axes.set_ylabel("capturing it (%)")
        axes.set_xlabel("flag")
        axes.set_ylim(0, 100)

    body = _png(draw, (max(4.0, 0.45 * len(names) + 1.5), 3.2)) if names else "<p>None.</p>"
    return f'<section id="flags"><h2>Share of the class capturing each flag</h2>{body}</section>'


def _statuses_section(rows: list[dict[str, str]]) -> str:
    groups = status_groups(rows)
    if not groups:
        return '<section id="statuses"><h2>Statuses</h2><p>Every run ended ok.</p></section>'
    items = "".join(
        f"<li><b>{html.escape(status)}</b> ({len(who)}): "
        + ", ".join(html.escape(name) for name in who)
        + "</li>"
        for status, who in groups.items()
    )
    return f'<section id="statuses"><h2>Statuses</h2><ul>{items}</ul></section>'


def _times_section(rows: list[dict[str, str]]) -> str:
    times = seconds_by_chapter(rows)
    if not times:
        return '<section id="times"><h2>Run time per chapter</h2><p>No run.</p></section>'

    def draw(axes) -> None:
        axes.boxplot(list(times.values()), tick_labels=[f"ch. {c}" for c in times])
        axes.set_ylabel("seconds per notebook")

    table = "".join(
        f"<tr><td>{html.escape(chapter)}</td><td>{len(values)}</td>"
        f"<td>{sum(values) / len(values):.1f}</td><td>{max(values):.1f}</td></tr>"
        for chapter, values in times.items()
    )
    return (
        '<section id="times"><h2>Run time per chapter</h2>'
        f"{_png(draw)}<table><tr><th>chapter</th><th>notebooks</th><th>mean (s)</th>"
        f"<th>max (s)</th></tr>{table}</table></section>"
    )


def _mistakes_section(rows: list[dict[str, str]]) -> str:
    mistakes = declared_mistakes(rows)
    if not mistakes:
        return ""
    items = "".join(
        f"<li><b>{html.escape(flag_id)}</b>: "
        + ", ".join(f"{html.escape(text)} ({count})" for text, count in top)
        + "</li>"
        for flag_id, top in mistakes.items()
    )
    return f'<section id="mistakes"><h2>Declared mistakes</h2><ul>{items}</ul></section>'


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "img{max-width:100%}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "section{margin-bottom:2em}"
)


def report_html(rows: list[dict[str, str]], title: str) -> str:
    """The whole page for the gradebook ``rows``."""
    sections = [
        _totals_section(rows),
        _flags_section(rows),
        _statuses_section(rows),
        _times_section(rows),
        _mistakes_section(rows),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>" + "".join(sections) + "</body></html>\n"
    )


def write_report(gradebook: Path, out: Path | None = None) -> Path:
    """Write the class report of ``gradebook`` (default: beside it, ``NAME-report.html``)."""
    out = out or gradebook.with_name(f"{gradebook.stem}-report.html")
    title = "Class report: " + re.sub(r"\s+", " ", gradebook.name)
    atomic_write_text(out, report_html(read_gradebook(gradebook), title))
    return out
