"""A cell's text outputs in the book as a terminal shows them: a progress bar is its last state."""

from __future__ import annotations

from docutils import nodes

from checks.authoring.book_outputs import as_terminal_shows, join_streams


def block(text: str, stream: str) -> nodes.literal_block:
    node = nodes.literal_block(text, text)
    node["classes"] += ["output", stream]
    return node


def test_a_carriage_return_overwrites_its_line_only():
    assert as_terminal_shows("a 0%\ra 50%\ra 100%\n") == "a 100%\n"
    assert as_terminal_shows("line one\r\nline two\n") == "line one\nline two\n"
    assert as_terminal_shows("kept\nx\ry\n\rz") == "kept\ny\nz"
    assert as_terminal_shows("no return at all") == "no return at all"


def test_a_cells_pieces_of_each_stream_become_one_block_each_in_order():
    output = nodes.container(classes=["cell_output"])
    image = nodes.image(uri="figure.png")
    output += [
        block("bar:   0%|", "stderr"),
        block("epoch 0\n", "stream"),
        block("\rbar:  50%|", "stderr"),
        image,
        block("epoch 1\n", "stream"),
        block("\rbar: 100%|", "stderr"),
        block("\n", "stderr"),
    ]
    join_streams(output)
    assert [child.astext() for child in output.children] == [
        "bar: 100%|\n",
        "epoch 0\nepoch 1\n",
        "",  # the image
    ]
    assert output.children[2] is image


def test_a_stream_left_blank_is_dropped_and_other_outputs_are_untouched():
    output = nodes.container(classes=["cell_output"])
    error = nodes.literal_block("Traceback\rx", "Traceback\rx")
    error["classes"] += ["output", "traceback"]
    output += [block("\r", "stderr"), error]
    join_streams(output)
    assert output.children == [error]
    assert error.astext() == "Traceback\rx"
