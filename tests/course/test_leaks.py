"""The leak audit: no exact flag's answer can be read off, or derived from, what a page shows.

A flag is worth its points only if the one way to its answer is to do the lesson. For every exact
flag (a count, a score with decimals, an array), the answer the solution run recorded is searched
for in the chapter's built page (its prose and the outputs of the executed student notebook) as a
student would search:

- the number itself, in any rounding the page prints (``0.935`` for ``0.9350``; a dictionary or a
  parameter printed with more decimals than the flag's, ``C=11.2147...`` for ``11.21``);
- a count from a printed rate: every accuracy or rate the run prints (``0.9714``, ``97.1 %``, in
  the cells' outputs: the prose quotes other runs, HOML3's) times every plausible denominator of
  the chapter (its parameters, MNIST's and the chapter's set sizes, the sizes the page prints),
  and its complement (errors from an accuracy), when the rate leaves at most :data:`FEW`
  candidates;
- an array as its entries printed in a row.

It fails naming the flag, what gives it away and the words around it. The audit of the course
runs on the built book (:func:`test_no_exact_flag_can_be_read_off_a_chapter`); the audit itself
is tested on synthetic pages, fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from conftest import ROOT

from checks.catalogue import Flag, flags, get_flag

#: A rate that leaves at most this many counts for a denominator gives the count away (the
#: issue's 6.1: "0.935 leaves five candidates").
FEW = 5
#: The sizes of the sets each chapter counts in (beside its parameters): MNIST's training, test
#: and whole set; chapter 8's training and validation split; chapter 9's train.csv, test.csv,
#: its training and validation split.
MNIST_SIZES = frozenset({60_000, 10_000, 70_000})
SET_SIZES = {8: MNIST_SIZES | {50_000, 5_000}, 9: frozenset({42_000, 28_000, 37_800, 4_200})}
#: Fewer significant digits than this occur everywhere in a page: not searched for as such.
SEARCHABLE_DIGITS = 3

_NUMBER = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?![\w.]|,\d)|(?<![\w.])-?\d+(?:\.\d+)?(?![\w]|\.\d)"
)
_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?%")
_GROUPED = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w.]|,\d)")


@dataclass(frozen=True)
class Printed:
    """A number as a page shows it: its value, its decimals, and where."""

    value: float
    decimals: int
    context: str


def _around(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 60) : end + 40].split())


def printed_numbers(text: str) -> list[Printed]:
    """Every number the text shows (``1,234``, ``0.9714``, ``-0.0006``), with its decimals."""
    found = []
    for match in _NUMBER.finditer(text):
        written = match.group().replace(",", "")
        decimals = len(written.split(".")[1]) if "." in written else 0
        found.append(Printed(float(written), decimals, _around(text, *match.span())))
    return found


def printed_rates(text: str) -> list[Printed]:
    """Every rate the text shows, as a fraction: ``0.9714``, or ``97.1 %`` as 0.971 (4 decimals)."""
    rates = [
        number for number in printed_numbers(text) if 0 < number.value < 1 and number.decimals >= 2
    ]
    for match in _PERCENT.finditer(text):
        written = match.group(1)
        decimals = (len(written.split(".")[1]) if "." in written else 0) + 2
        value = float(written) / 100
        if 0 < value < 1:
            rates.append(Printed(value, decimals, _around(text, *match.span())))
    return rates


def denominators(text: str, parameters: Iterable[int] = (), chapter: int = 0) -> set[int]:
    """The plausible denominators of a chapter: its parameters, set sizes, sizes it prints."""
    shown = {int(match.group().replace(",", "")) for match in _GROUPED.finditer(text)}
    sizes = SET_SIZES.get(chapter, MNIST_SIZES)
    return {n for n in {*sizes, *parameters, *shown} if n >= 100}


def counts_from_rate(rate: Printed, denominator: int) -> set[int]:
    """The counts a rate leaves for a denominator, and their complements, if at most :data:`FEW`."""
    half = 0.5 * 10.0**-rate.decimals
    low = math.ceil(denominator * (rate.value - half) - 1e-9)
    high = math.floor(denominator * (rate.value + half) + 1e-9)
    if not 1 <= high - low + 1 <= FEW:
        return set()
    counts = set(range(low, high + 1))
    return counts | {denominator - count for count in counts}


def _significant(number: float, decimals: int) -> int:
    digits = f"{abs(number):.{decimals}f}".replace(".", "").lstrip("0")
    return len(digits)


def leaks(
    flag: Flag,
    canonical: str,
    text: str,
    parameters: Iterable[int] = (),
    outputs: str | None = None,
) -> list[str]:
    """How a page gives away an exact flag's answer (its canonical text), in words; [] if not.

    Parameters
    ----------
    flag : Flag
        An exact flag (integer, float or array).
    canonical : str
        The answer as the solution run recorded it (``"286"``, ``"0.9350"``, ``"2:1,-2"``).
    text : str
        What the page shows: prose and outputs.
    parameters : iterable of int
        The chapter's parameter values (denominators a student would try).
    outputs : str, optional
        What the cells print, the rates counts are derived from (default: all of ``text``).

    Returns
    -------
    list of str
        One line per way, naming the flag and quoting the page.
    """
    found: list[str] = []
    if flag.kind == "integer":
        answer = int(canonical)
        if _significant(answer, 0) >= SEARCHABLE_DIGITS:
            found += [
                f"flag {flag.id}: {answer} is printed: ...{number.context}..."
                for number in printed_numbers(text)
                if number.decimals == 0 and number.value == answer
            ]
        sizes = denominators(text, parameters, flag.chapter)
        for rate in printed_rates(text if outputs is None else outputs):
            for size in sorted(sizes):
                if answer in counts_from_rate(rate, size):
                    found.append(
                        f"flag {flag.id}: {answer} follows from a rate and {size:,} images: "
                        f"...{rate.context}..."
                    )
    elif flag.kind == "float":
        answer = float(canonical)
        for number in printed_numbers(text):
            shared = min(number.decimals, flag.decimals or 0)
            if shared == 0 or _significant(answer, shared) < SEARCHABLE_DIGITS:
                continue
            if f"{number.value:.{shared}f}" == f"{answer:.{shared}f}":
                found.append(
                    f"flag {flag.id}: {answer} is printed to {number.decimals} decimals: "
                    f"...{number.context}..."
                )
        for rate in printed_rates(text):
            shared = min(rate.decimals, flag.decimals or 0)
            percentage = "%" in rate.context and _significant(answer, shared) >= SEARCHABLE_DIGITS
            if percentage and f"{rate.value:.{shared}f}" == f"{answer:.{shared}f}":
                found.append(f"flag {flag.id}: {answer} is printed as a percentage: {rate.context}")
    elif flag.kind == "array":
        entries = canonical.split(":")[1].split(",")
        row = r"[\s,(\[]*".join(re.escape(entry) for entry in entries)
        pattern = re.compile(rf"[(\[]\s*{row}\s*[)\]]")
        found += [
            f"flag {flag.id}: {canonical} is printed: ...{_around(text, *match.span())}..."
            for match in pattern.finditer(text)
        ]
    return list(dict.fromkeys(found))


def parameters_of(chapter: int) -> list[int]:
    """The whole-number values of a chapter's ``parameters`` cell (from its solution)."""
    solution = next((ROOT / "solutions").glob(f"{chapter:02d}_*.ipynb"))
    notebook = nbformat.read(solution, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    return [int(value.replace("_", "")) for value in re.findall(r"=\s*([\d_]+)\b", cell.source)]


def audit(answers: dict[str, str], pages: dict[int, tuple[str, str]]) -> list[str]:
    """Every leak of every exact flag of the chapters in ``pages``.

    ``pages`` maps a chapter to its page's text and the text of its cells' outputs.
    """
    found = []
    for flag_id, canonical in answers.items():
        flag = get_flag(flag_id)
        if flag.keyed and flag.kind != "string" and flag.chapter in pages:
            text, outputs = pages[flag.chapter]
            found += leaks(flag, canonical, text, parameters_of(flag.chapter), outputs)
    return found


class OutputText(HTMLParser):
    """A built page's text, and apart the text of its cells' outputs (``div.cell_output``)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.outputs: list[str] = []
        self._skip = 0
        self._stack: list[bool] = []  # per open div: whether it is an output

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "div":
            self._stack.append("cell_output" in (dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "div" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if any(self._stack):
                self.outputs.append(data)


def page_and_outputs(page: Path) -> tuple[str, str]:
    """A built page's visible text, and its cells' outputs."""
    parser = OutputText()
    parser.feed(page.read_text(encoding="utf-8"))
    return " ".join(parser.parts), " ".join(parser.outputs)


# --- The audit, tested -----------------------------------------------------------------------


def test_a_count_is_found_printed_and_from_a_rate_times_a_denominator():
    flag = get_flag("6.2")  # an integer flag
    assert leaks(flag, "286", "we found 286 errors")
    assert leaks(flag, "286", "tuned KNN, test accuracy: 0.9714")  # 10,000 test images
    assert leaks(flag, "37", "originals + augmented validation accuracy 0.9815", [2_000])
    assert leaks(flag, "37", "98.15 % right", [2_000])
    assert not leaks(flag, "37", "originals + augmented validation accuracy 0.9815")
    assert not leaks(flag, "286", "HOML3: 0.9714; we print 0.9750", outputs="we print 0.9750")
    assert not leaks(flag, "286", "test accuracy: 0.97")  # 100 candidates: not given away


def test_a_float_is_found_in_any_rounding_and_in_a_printed_dict():
    flag = get_flag("6.1")  # 4 decimals
    assert leaks(flag, "0.9350", "4 neighbours, distance: 0.935")
    assert not leaks(flag, "0.9350", "4 neighbours, distance: best, -0.0006")
    c = get_flag("6.1")
    assert leaks(c, "0.9389", "best: {'C': np.float64(0.93887), 'kernel': 'rbf'}")


def test_an_array_is_found_as_its_entries_in_a_row():
    flag = next(f for f in flags().values() if f.kind == "array")
    assert leaks(flag, "2:1,-2", "the shift is (1, -2) pixels")
    assert not leaks(flag, "2:1,-2", "rows 1 to -2")


# --- The audit of the course, on the built book ----------------------------------------------


def test_the_outputs_of_a_built_page_are_told_from_its_prose():
    parser = OutputText()
    parser.feed(
        "<p>HOML3 scores 0.9758</p><div class='cell docutils'><div class='cell_output docutils'>"
        "<pre>accuracy 0.9734</pre></div></div><p>then</p>"
    )
    assert " ".join(parser.outputs) == "accuracy 0.9734"
    assert "0.9758" in " ".join(parser.parts) and "then" in " ".join(parser.parts)


def test_no_exact_flag_can_be_read_off_a_chapter(answers, built_book: Path):
    pages = {
        int(page.stem[:2]): page_and_outputs(page)
        for page in (built_book / "notebooks").glob("[0-9][0-9]_*.html")
    }
    canonical = {flag_id: answer.canonical for flag_id, answer in answers.items()}
    assert audit(canonical, pages) == []
