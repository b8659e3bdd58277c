"""A Sphinx extension: a cell's text outputs shown in the book as a terminal would show them.

A progress bar (tqdm) redraws itself: each update is a carriage return and the bar again, and the
kernel sends them as separate pieces of stderr, between the stdout lines the same cell prints.
JupyterLab and Colab draw the last state only; myst-nb renders each piece as a block of its own,
and a browser reads every carriage return as a new line, so a bar of 20 updates became 20 lines
(and ``nb_merge_streams``, which ends each piece with a newline, keeps them).

After myst-nb has read a chapter, this extension joins each cell's pieces of one stream (stdout,
stderr) into its first block, in order, and keeps of each line what follows its last carriage
return (:func:`as_terminal_shows`): one block per stream, the bar's last state.
``_config.yml`` loads it (``sphinx: extra_extensions``).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

#: The classes myst-nb gives a stream output's block, by stream.
STREAMS = ("stream", "stderr")


def as_terminal_shows(text: str) -> str:
    r"""What a terminal shows of ``text``: each line from its last carriage return on.

    Parameters
    ----------
    text : str
        A stream's text, carriage returns included.

    Returns
    -------
    str
        The text without what later carriage returns overwrote.

    Examples
    --------
    >>> as_terminal_shows("epochs: 0%\repochs: 50%\repochs: 100%\ndone\n")
    'epochs: 100%\ndone\n'
    """
    lines = text.split("\n")
    shown = []
    for line in lines:
        kept = line.rstrip("\r")  # "\r\n" ends a line; it overwrites nothing
        shown.append(kept[kept.rfind("\r") + 1 :])
    return "\n".join(shown)


def _stream_of(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.literal_block) and "output" in node["classes"]:
        return next((stream for stream in STREAMS if stream in node["classes"]), None)
    return None


def join_streams(output: nodes.Element) -> None:
    """Join one cell output container's pieces of each stream into its first block, as shown.

    Parameters
    ----------
    output : docutils.nodes.Element
        A ``cell_output`` container that myst-nb built.
    """
    first: dict[str, nodes.literal_block] = {}
    texts: dict[str, list[str]] = {}
    for child in list(output.children):
        stream = _stream_of(child)
        if stream is None:
            continue
        texts.setdefault(stream, []).append(child.astext())
        if stream in first:
            output.remove(child)
        else:
            first[stream] = child
    for stream, block in first.items():
        text = as_terminal_shows("".join(texts[stream]))
        if not text.strip():
            output.remove(block)  # only a bar's final newline was left
            continue
        block.children = [nodes.Text(text)]
        block.rawsource = text


def _join_every_cell(app: Any, doctree: nodes.document) -> None:
    for output in doctree.findall(nodes.container):
        if "cell_output" in output["classes"]:
            join_streams(output)


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx: every page's cell outputs, once read.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application building the book.

    Returns
    -------
    dict
        The extension's metadata (safe for parallel reading and writing).
    """
    app.connect("doctree-read", _join_every_cell)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
