"""check()'s outcome: shown exactly once per call in a real kernel and in a script; readable
colours in JupyterLab's light and dark themes; the progress table's titles left-aligned."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

import checks
from checks.outcome import _STYLE, UNANSWERED
from checks.scoreboard import scoreboard

CELLS = {
    "last expression": 'checks.check("1.1", ...)',
    "not the last line": 'result = checks.check("1.1", ...)\nprint("after")',
    "followed by a statement": 'checks.check("1.1", ...)\nx = 1',
    "with the old ;": 'checks.check("1.1", ...);',
    "two calls": 'checks.check("1.1", ...)\nchecks.check("1.2", ...)',
    "asked for in a later cell": "result",
    "as a bool": 'bool(checks.check("1.1", ...))',
}


def test_a_kernel_shows_each_outcome_exactly_once(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import checks")] + [
        nbformat.v4.new_code_cell(source) for source in CELLS.values()
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env, cwd=str(tmp_path))
    try:
        client.start_new_kernel_client()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    finally:
        client._cleanup_kernel()
    shown = {}
    for name, cell in zip(CELLS, notebook.cells[1:], strict=True):
        outcomes = [
            output
            for output in cell.outputs
            if "Not answered yet" in str(output.get("data", {}).get("text/html", ""))
        ]
        shown[name] = len(outcomes)
        for output in outcomes:
            assert "Not answered yet" in output["data"]["text/plain"]
    assert shown == {name: 2 if name == "two calls" else 1 for name in CELLS}
    by_name = dict(zip(CELLS, notebook.cells[1:], strict=True))
    assert any(o.get("text") == "after\n" for o in by_name["not the last line"].outputs)
    results = [o for o in by_name["as a bool"].outputs if o.output_type == "execute_result"]
    assert results[0]["data"]["text/plain"] == "False"


def test_a_script_prints_the_outcome_once(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", 'import checks; checks.check("1.1", ...)'],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
    )
    assert completed.stdout.count("Not answered yet") == 1, completed.stdout + completed.stderr


def test_strict_mode_still_raises(monkeypatch):
    monkeypatch.setenv("CHECKS_STRICT", "1")
    with pytest.raises(checks.FlagNotCaptured):
        checks.check("1.1", ...)


def _theme_colours(theme: str) -> dict[str, str]:
    import jupyterlab

    css = (
        Path(jupyterlab.__file__).parent
        / "themes"
        / "@jupyterlab"
        / f"theme-{theme}-extension"
        / "index.css"
    ).read_text(encoding="utf-8")
    return dict(re.findall(r"(--jp-[\w-]+):\s*([^;}]+)", css))


def _rgb(value: str, variables: dict[str, str], background=(1.0, 1.0, 1.0)) -> tuple:
    """An sRGB colour (0–1) from #hex, rgba() (over the background) or var(--x, fallback)."""
    value = value.strip()
    var = re.fullmatch(r"var\((--[\w-]+)\s*(?:,\s*(.+))?\)", value)
    if var:
        name, fallback = var.groups()
        return _rgb(variables.get(name, fallback), variables, background)
    if value == "white":
        return (1.0, 1.0, 1.0)
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    rgba = re.fullmatch(r"rgba\(([\d.]+),([\d.]+),([\d.]+),([\d.]+)\)", value.replace(" ", ""))
    assert rgba, value
    *channels, alpha = (float(x) for x in rgba.groups())
    return tuple(
        alpha * c / 255 + (1 - alpha) * b for c, b in zip(channels, background, strict=True)
    )


def _contrast(first: tuple, second: tuple) -> float:
    def luminance(rgb: tuple) -> float:
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_verdict_is_readable_in_jupyterlab_light_and_dark(theme):
    variables = _theme_colours(theme)
    background = _rgb(variables["--jp-layout-color0"], variables)
    for status, (_, colour, headline) in _STYLE.items():
        ratio = _contrast(_rgb(colour, variables, background), background)
        # WCAG AA: 4.5 for text; 3 for bold text, as every headline is.
        needed = 4.5 if status == UNANSWERED else 3.0
        assert ratio >= needed, f"{headline} in the {theme} theme: contrast {ratio:.1f}"


def test_unanswered_falls_back_to_the_texts_own_colour_outside_jupyterlab():
    assert _STYLE[UNANSWERED][1].endswith("currentColor)")


def test_the_progress_tables_titles_are_left_aligned():
    html = scoreboard()._repr_html_()
    titles = re.findall(r"<t[dh]( style=\"text-align:left\")?>(?:<strong>)?([^<]+)", html)
    left = {text for style, text in titles if style}
    assert {"Title", "Total", "Performance measures"} <= left
