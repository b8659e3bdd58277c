"""Read and validate a Kaggle-style submission: ``ImageId,Label``, one row per test.csv image.

A submission is a CSV file (or a pandas DataFrame) with the header ``ImageId,Label`` and 28,000
rows: ImageId 1 to 28,000 (``test.csv``'s rows, in order, each once) and the predicted digit
0-9. :func:`read_submission` returns the predictions ordered by ImageId, or raises
:class:`SubmissionError` listing *every* problem found, one line each, with at most a few
examples (``row 2 (ImageId 1): the label '10' is not a digit 0-9``). Rows are numbered as a
spreadsheet shows the file: the header is row 1, the first prediction row 2.

Nothing here trusts the file: its size is capped before it is read (:data:`MAX_BYTES`), and a
folder, a device or a pipe is refused without being opened for reading.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from checks.files import shown_path
from checks.kaggle import N_TEST_ROWS, SUBMISSION_COLUMNS, SUBMISSION_HEADER

#: A submission of 28,000 rows is about 200 KB; a file over this size is refused unread.
MAX_BYTES = 4 * 1024**2
#: Examples shown per problem.
EXAMPLES = 3
#: A DataFrame longer or wider than this is refused before it is turned into text.
_MAX_FRAME_ROWS, _MAX_FRAME_COLUMNS = 10 * N_TEST_ROWS, 100


class SubmissionError(ValueError):
    """A submission that cannot be scored; :attr:`problems` lists every problem, one line each."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(
            f"{name} is not a submission Kaggle would accept:\n"
            + "\n".join(f"  - {problem}" for problem in self.problems)
        )

    def one_line(self) -> str:
        """The problems joined on one line, for a verdict."""
        return f"{self.name} is not a valid submission: " + "; ".join(self.problems)


# --- Getting the text ----------------------------------------------------------------------


def _clip(text: str, length: int = 30) -> str:
    """A text short enough to quote in a one-line problem."""
    return text if len(text) <= length else text[: length - 3] + "..."


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _read_file(path: Path, name: str) -> bytes:
    """The file's bytes, or a :class:`SubmissionError` saying why it cannot be a submission.

    ``name`` is the path as messages quote it (:func:`checks.files.shown_path`).
    """
    try:
        info = os.stat(path)
    except ValueError:  # an embedded NUL byte
        raise SubmissionError(name, ["this is not a valid file path"]) from None
    except FileNotFoundError:
        raise SubmissionError(
            name, [f"there is no file {name} (did the cell that writes it run?)"]
        ) from None
    except OSError as error:
        raise SubmissionError(
            name, [f"{name} cannot be read ({error.strerror or error})"]
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise SubmissionError(name, [f"{name} is a folder, not a CSV file"])
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(name, [f"{name} is not a regular file (a device or a pipe?)"])
    too_large = [
        f"the file is {_size_text(info.st_size)}, far more than a submission of "
        f"{N_TEST_ROWS:,} rows (about 200 KB): is it the right file?"
    ]
    if info.st_size > MAX_BYTES:
        raise SubmissionError(name, too_large)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # swapped since the stat
                raise SubmissionError(name, [f"{name} is not a regular file"])
            content = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise SubmissionError(
            name, [f"{name} cannot be read ({error.strerror or error})"]
        ) from None
    if len(content) > MAX_BYTES:  # it grew since the stat
        raise SubmissionError(name, too_large)
    return content


def _decode(name: str, content: bytes) -> str:
    if b"\x00" in content:
        raise SubmissionError(name, ["the file is binary, not CSV text: is it the right file?"])
    try:
        return content.decode("utf-8-sig")  # a byte-order mark (Excel's) is allowed
    except UnicodeDecodeError as error:
        raise SubmissionError(
            name,
            [
                f"the file is not UTF-8 text (byte {content[error.start]:#04x} at position "
                f"{error.start:,}): write it with to_csv or np.savetxt"
            ],
        ) from None


def _is_dataframe(value: object) -> bool:
    """Whether ``value`` is a pandas DataFrame (pandas is not imported for the question)."""
    pandas = sys.modules.get("pandas")
    frame_type = getattr(pandas, "DataFrame", None)
    return isinstance(frame_type, type) and isinstance(value, frame_type)


def _frame_text(frame: object) -> str:
    """A DataFrame as the CSV text ``to_csv(index=False)`` writes, after checking its size."""
    rows, columns = frame.shape  # type: ignore[attr-defined]
    name = "the DataFrame"
    if rows > _MAX_FRAME_ROWS or columns > _MAX_FRAME_COLUMNS:
        raise SubmissionError(
            name, [f"expected {N_TEST_ROWS:,} rows and 2 columns, found {rows:,} x {columns:,}"]
        )
    if _text_size_over(frame, MAX_BYTES):
        raise SubmissionError(
            name,
            [
                f"it would be over {_size_text(MAX_BYTES)} of CSV text, far more than a "
                f"submission of {N_TEST_ROWS:,} rows (about 200 KB): are its cells digits?"
            ],
        )
    return frame.to_csv(index=False, lineterminator="\n")  # type: ignore[attr-defined]


#: The longest text ``to_csv`` writes for a float or a complex number.
_FLOAT_WIDTH, _COMPLEX_WIDTH = 24, 50


def _text_size_over(frame: object, limit: int) -> bool:
    """Whether ``frame`` as CSV text may be over ``limit`` characters, found without writing it.

    Numbers are counted by their widest text (an int column by its minimum and maximum), other
    cells one by one, stopping as soon as the count is over ``limit``: a DataFrame of long text
    cells is refused like a file over :data:`MAX_BYTES`, before 28 MB of CSV text is built.
    """
    rows, columns = frame.shape  # type: ignore[attr-defined]
    size = rows * columns  # the commas and line ends
    for position in range(columns):
        column = frame.iloc[:, position]  # type: ignore[attr-defined]
        kind = getattr(column.dtype, "kind", "O")
        if kind in "biu" and rows:
            size += rows * max(len(str(column.min())), len(str(column.max())))
        elif kind in "fc":
            size += rows * (_FLOAT_WIDTH if kind == "f" else _COMPLEX_WIDTH)
        else:
            for value in column.to_numpy(dtype=object, copy=False):
                size += len(str(value))
                if size > limit:
                    return True
        if size > limit:
            return True
    return False


def is_submission_source(value: object) -> bool:
    """Whether ``value`` names a submission: a path (``str`` or path-like) or a DataFrame.

    Parameters
    ----------
    value : object
        Anything.

    Returns
    -------
    bool
        True for what :func:`read_submission` reads.
    """
    return isinstance(value, str | os.PathLike) or _is_dataframe(value)


# --- Checking the rows ---------------------------------------------------------------------


@dataclass
class _Problems:
    """Problems of one kind: how one is said, how several are, and where they were found."""

    one: Callable[[str], str]  # the problem for one value: "the label '10' is not a digit 0-9"
    several: str  # "have a label that is not a digit 0-9"
    found: list[tuple[str, str]] = field(default_factory=list)  # (where, value)

    def add(self, where: str, value: str) -> None:
        self.found.append((where, value))

    def line(self) -> str | None:
        if not self.found:
            return None
        if len(self.found) == 1:
            where, value = self.found[0]
            return f"{where}: {self.one(value)}"
        shown = ", ".join(f"{where} {_clip(value)!r}" for where, value in self.found[:EXAMPLES])
        more = len(self.found) - EXAMPLES
        tail = f" and {more:,} more" if more > 0 else ""
        return f"{len(self.found):,} rows {self.several}: {shown}{tail}"


def _plain(text: str) -> bool:
    """Whether ``text`` is written as Kaggle reads numbers: ASCII, without ``_`` separators.

    Python's ``int`` and ``float`` also read ``'0_7'``, a full-width seven (U+FF17) and an
    Arabic-Indic seven (U+0667) as 7; Kaggle's parser does not.
    """
    return text.isascii() and "_" not in text


def _whole_number(text: str) -> int | None:
    """``'7'`` or ``'7.0'`` as 7; None for anything that is not a whole number written plainly."""
    if not _plain(text):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _is_number(text: str) -> bool:
    """Whether Python reads ``text`` as a number (``'0_7'`` and a full-width 7 included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header_problem(header: list[str]) -> tuple[str | None, tuple[int, int] | None, bool]:
    """What is wrong with the header, where ImageId and Label are, and whether it is data.

    Returns (problem or None, (id column, label column) or None if unknown, header is data).
    """
    found = _clip(",".join(header), 60)
    if header == list(SUBMISSION_COLUMNS):
        return None, (0, 1), False
    if header and all(_whole_number(cell) is not None for cell in header):
        return (
            f"the first row is {found!r}, expected the header {SUBMISSION_HEADER!r} "
            "(write the file with its column names)",
            (0, 1) if len(header) >= 2 else None,
            True,
        )
    lowered = [cell.lower() for cell in header]
    problem = f"the header is {found!r}, expected {SUBMISSION_HEADER!r}"
    if "imageid" in lowered and "label" in lowered:
        positions = (lowered.index("imageid"), lowered.index("label"))
        if len(header) > 2:
            extra = [cell for cell in header if cell.lower() not in ("imageid", "label")]
            repeated = [
                f"{cell!r} twice"
                if lowered.count(cell.lower()) == 2
                else f"{cell!r} {lowered.count(cell.lower())} times"
                for cell in dict.fromkeys(header)
                if cell.lower() in ("imageid", "label") and lowered.count(cell.lower()) > 1
            ]
            shown = ", ".join([*map(repr, extra), *repeated])
            problem += f": only these two columns, each once, not {shown}"
            if "" in extra:
                problem += " (an index column: use to_csv(..., index=False))"
        elif positions != (0, 1):
            problem += ": ImageId first, then Label"
        else:
            problem += " (with this capitalisation)"
        return problem, positions, False
    return problem, ((0, 1) if len(header) >= 2 else None), False


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count:,} {singular if count == 1 else plural}"


def _parse(name: str, text: str, first_row: int) -> np.ndarray:
    """Check a submission's CSV text; its predictions by ImageId, or every problem found.

    ``first_row`` is the number the first row after the header is shown with: 2 in a file (a
    spreadsheet's numbering), 0 in a DataFrame (its positions).
    """
    if not text.strip():
        raise SubmissionError(
            name,
            [
                f"the file is empty: expected the header {SUBMISSION_HEADER} "
                f"and {N_TEST_ROWS:,} rows"
            ],
        )
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise SubmissionError(name, [f"the file is not valid CSV ({error})"]) from None
    problems: list[str] = []
    header = [cell.strip() for cell in rows[0]]
    header_problem, positions, header_is_data = _header_problem(header)
    if header_problem:
        problems.append(header_problem)
    numbered = list(enumerate(rows, start=first_row - 1))  # the header is row first_row - 1
    data = numbered if header_is_data else numbered[1:]
    blank_lines = [number for number, row in data if not row]
    data = [(number, [cell.strip() for cell in row]) for number, row in data if row]
    if blank_lines:
        shown = ", ".join(str(number) for number in blank_lines[:EXAMPLES])
        problems.append(
            f"{_plural(len(blank_lines), 'blank row', 'blank rows')} (row {shown}): remove them"
        )
    width = len(header)
    kinds = {
        "fields": _Problems(
            lambda value: f"{value} fields where the header has {width}",
            f"have a number of fields other than the header's {width}",
        ),
        "blank": _Problems(lambda value: f"the {value} is blank", "have a blank ImageId or Label"),
        "id_not_whole": _Problems(
            lambda value: f"the ImageId {_clip(value)!r} is not a whole number",
            "have an ImageId that is not a whole number",
        ),
        "id_range": _Problems(
            lambda value: f"the ImageId {value} is not between 1 and {N_TEST_ROWS:,}",
            f"have an ImageId that is not between 1 and {N_TEST_ROWS:,}",
        ),
        "label_text": _Problems(
            lambda value: f"the label {_clip(value)!r} is text, not a digit 0-9",
            "have a label that is text, not a digit 0-9",
        ),
        "label_digits": _Problems(
            lambda value: (
                f"the label {_clip(value)!r} is not written with the ASCII digits "
                "0-9 (Kaggle reads no other)"
            ),
            "have a label not written with the ASCII digits 0-9 (Kaggle reads no other)",
        ),
        "label_range": _Problems(
            lambda value: f"the label {_clip(value)!r} is not a digit 0-9",
            "have a label that is not a digit 0-9",
        ),
    }
    predicted = np.full(N_TEST_ROWS, -1, dtype=np.int64)
    rows_of: dict[int, list[int]] = {}
    for number, row in data:
        if positions is None:
            break
        id_text = row[positions[0]] if positions[0] < len(row) else ""
        where = f"row {number}" + (f" (ImageId {_clip(id_text, 12)})" if id_text else "")
        if len(row) != width:
            kinds["fields"].add(where, str(len(row)))
            if len(row) <= max(positions):
                continue
        label_text = row[positions[1]]
        if not id_text or not label_text:
            kinds["blank"].add(where, "ImageId" if not id_text else "Label")
            continue
        image_id = _whole_number(id_text)
        if image_id is None:
            kinds["id_not_whole"].add(where, id_text)
        elif not 1 <= image_id <= N_TEST_ROWS:
            kinds["id_range"].add(where, id_text)
            image_id = None
        label = _whole_number(label_text)
        if label is None or not 0 <= label <= 9:
            kind = "label_text"
            if _is_number(label_text):
                kind = "label_range" if _plain(label_text) else "label_digits"
            kinds[kind].add(where, label_text)
            label = None
        if image_id is not None:
            rows_of.setdefault(image_id, []).append(number)
            if label is not None:
                predicted[image_id - 1] = label
    problems.extend(line for kind in kinds.values() if (line := kind.line()))
    missing = [image_id for image_id in range(1, N_TEST_ROWS + 1) if image_id not in rows_of]
    if len(data) != N_TEST_ROWS:
        count = f"expected {N_TEST_ROWS:,} rows (ImageId 1 to {N_TEST_ROWS:,}), found {len(data):,}"
        if 0 < len(missing) <= EXAMPLES and positions is not None:
            count += " (missing: ImageId " + ", ".join(map(str, missing)) + ")"
        problems.append(count)
    duplicates = {image_id: rows for image_id, rows in rows_of.items() if len(rows) > 1}
    if duplicates:
        shown = ", ".join(
            f"{image_id} (rows {', '.join(map(str, rows[:EXAMPLES]))})"
            for image_id, rows in list(duplicates.items())[:EXAMPLES]
        )
        more = f" and {len(duplicates) - EXAMPLES:,} more" if len(duplicates) > EXAMPLES else ""
        several = _plural(len(duplicates), "ImageId appears", "ImageIds appear")
        problem = f"{several} more than once: {shown}{more}"
        if missing and len(data) == N_TEST_ROWS:
            problem += f", so {_plural(len(missing), 'ImageId has', 'ImageIds have')} no prediction"
        problems.append(problem)
    if problems:
        raise SubmissionError(name, problems)
    return predicted


# --- The public functions ------------------------------------------------------------------


def read_submission(source: object) -> np.ndarray:
    """Read a submission and return its predictions, ordered by ImageId.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        A CSV file with the header ``ImageId,Label`` and one row per ``test.csv`` image
        (ImageId 1 to 28,000, each once, in any order; Label a digit 0-9), or a DataFrame with
        those two columns (its index is ignored).

    Returns
    -------
    numpy.ndarray
        28,000 digits, dtype int64: the prediction for ImageId 1, 2, ..., 28,000.

    Raises
    ------
    SubmissionError
        A ValueError whose ``problems`` lists every problem found, one line each: missing
        file, a folder, a file too large (over :data:`MAX_BYTES`), not UTF-8 text, empty,
        a wrong header, a wrong number of rows, ImageIds that are not whole numbers, out of
        1..28,000, repeated or missing, labels that are not digits 0-9, blank fields, rows
        with extra fields.

    Examples
    --------
    >>> from checks.submission import read_submission
    >>> predictions = read_submission("submission.csv")  # doctest: +SKIP
    >>> predictions[:3]  # doctest: +SKIP
    array([2, 0, 9])
    """
    if _is_dataframe(source):
        try:
            text = _frame_text(source)
        except SubmissionError:
            raise
        except Exception as error:
            raise SubmissionError(
                "the DataFrame", [f"it cannot be written as CSV ({type(error).__name__})"]
            ) from None
        return _parse("the DataFrame", text, first_row=0)
    if not isinstance(source, str | os.PathLike):
        raise SubmissionError(
            "this value",
            [
                f"expected a path to a CSV file or a DataFrame, got a {type(source).__name__}",
            ],
        )
    path = Path(source)
    name = shown_path(source)
    content = _read_file(path, name)
    return _parse(name, _decode(name, content), first_row=2)


def validate_submission(source: object) -> bool:
    """Say whether a submission is in the format Kaggle expects, and if not, every problem.

    It prints ``✓ submission.csv: 28,000 predictions, the format Kaggle expects``, or one line
    per problem. It never raises for a bad submission.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        As for :func:`read_submission`.

    Returns
    -------
    bool
        True if the submission can be scored.

    Examples
    --------
    >>> import checks
    >>> checks.validate_submission("submission.csv")  # doctest: +SKIP
    ✓ submission.csv: 28,000 predictions, the format Kaggle expects
    True
    """
    try:
        shown = "the DataFrame" if _is_dataframe(source) else shown_path(source)
    except Exception:
        shown = "this value"
    try:
        read_submission(source)
    except SubmissionError as error:
        print(f"✘ {error}")
        return False
    except Exception as error:  # a value built to break the reader: still one line
        print(f"✘ {shown} cannot be read as a submission ({type(error).__name__})")
        return False
    print(f"✓ {shown}: {N_TEST_ROWS:,} predictions, the format Kaggle expects")
    return True
