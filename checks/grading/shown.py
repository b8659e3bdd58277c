r"""What a submission controls, made safe to show: names that are not UTF-8, Markdown, HTML.

Everything a student hands in or a run writes (file and folder names, cell sources, exception
names and messages) reaches the instructor in the gradebook, the feedback pages and the class
report. There it must read as plain text: it cannot add a line to a table, forge a status, or
run a script when the page is rendered (MyST, CommonMark, a browser).

- :func:`shown_name`: printable, on one line; a byte that is not UTF-8 (a Latin-1 file name,
  kept by Python as a lone surrogate, ``surrogateescape``) is shown as ``\xe9``.
- :func:`markdown_text`: :func:`shown_name`, then every character Markdown or HTML gives a
  meaning to is escaped, so it renders as the characters themselves.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:>\"'$=^])")


def shown_name(text: str, limit: int | None = None) -> str:
    r"""``text`` printable and on one line: undecodable bytes and control characters escaped.

    Parameters
    ----------
    text : str
        A name or message from a submission, possibly with lone surrogates (bytes of a file
        name that are not UTF-8).
    limit : int, optional
        Cut to at most this many characters (an ellipsis marks the cut).

    Returns
    -------
    str
        Valid UTF-8 text without line breaks: ``caf\xe9.ipynb``, ``a\nb``.
    """
    raw = text.encode("utf-8", "surrogateescape")
    decoded = raw.decode("utf-8", "backslashreplace")
    shown = "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode()
        for character in decoded
    )
    if limit is not None and len(shown) > limit:
        shown = shown[: max(0, limit - 1)] + "…"
    return shown


def markdown_text(text: str, limit: int | None = None) -> str:
    """``text`` as Markdown that renders as exactly these characters, on one line.

    HTML's ``&``, ``<`` and ``>`` become entities (no tag, no script), and Markdown's
    punctuation is backslash-escaped (no emphasis, link, code span, heading, or table cell
    boundary: a ``|`` stays in its cell).

    Parameters
    ----------
    text : str
        A name, a cell's first line, an exception's name or message.
    limit : int, optional
        Cut to at most this many characters before escaping.

    Returns
    -------
    str
        Markdown (CommonMark, MyST, GitHub) safe inside a paragraph or a table cell.
    """
    escaped = html.escape(shown_name(text, limit), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)
