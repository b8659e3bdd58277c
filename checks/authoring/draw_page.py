"""A Sphinx extension: the "Draw a digit" page's three scripts, written when the book is built.

``_config.yml`` loads it (``sphinx: extra_extensions``) and lists :data:`EXTRA_FOLDER` in
``html_extra_path``. When the book has the page (:data:`PAGE`), every HTML build writes into that
folder, under :data:`ASSET_FOLDER`:

- ``draw_digit.js``: the canvas, the preprocessing and the forward pass
  (``checks/own_digit/static/draw_digit.js``, the one source the notebook widget shares);
- ``mnist_draw_model.js``: the MLP's weights (``window.MNIST_DRAW_MODEL``), trained once per set of
  library versions and then read from the cache (:mod:`checks.own_digit.draw_model`);
- ``mnist_draw_samples.js``: the course's ten sample digits (``window.MNIST_DRAW_SAMPLES``), as
  ``data:`` addresses the page's canvas may read from ``file://``
  (:func:`checks.own_digit.samples_index.sample_data_urls`).

Sphinx copies the folder to the root of the HTML output, where only the draw page's own
``<script>`` tags load them: unlike ``_static/``, whose scripts Jupyter Book links into every
page. Nothing written here is kept in git (it is under ``_build/``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from checks.files import atomic_write_text
from checks.layout import DRAW_PAGE, DRAW_PAGE_ASSETS
from checks.own_digit.widget import SCRIPT as SOURCE

PAGE = DRAW_PAGE
EXTRA_FOLDER = DRAW_PAGE_ASSETS
ASSET_FOLDER = "draw-a-digit"
SCRIPT = SOURCE.name  # draw_digit.js
MODEL = "mnist_draw_model.js"
SAMPLES = "mnist_draw_samples.js"


def asset_folder(confdir: str | Path) -> Path:
    """Where the three scripts are written: ``<book>/_build/draw_page/draw-a-digit``."""
    return Path(confdir) / EXTRA_FOLDER / ASSET_FOLDER


def _prepare(app: Any, config: Any) -> None:
    """Before Sphinx checks ``html_extra_path``: the folder exists and is listed there."""
    from sphinx.errors import ExtensionError

    wanted = (Path(app.confdir) / EXTRA_FOLDER).resolve()
    listed = {(Path(app.confdir) / entry).resolve() for entry in config.html_extra_path}
    if wanted not in listed:
        raise ExtensionError(
            f"{__name__}: list {EXTRA_FOLDER!r} in html_extra_path (sphinx: config: in _config.yml)"
        )
    asset_folder(app.confdir).mkdir(parents=True, exist_ok=True)


def _write_assets(app: Any) -> None:
    """Write the scripts, training the model first if no cached one fits the libraries."""
    from sphinx.util import logging

    from checks.own_digit.draw_model import cache_folder, load_or_train_draw_model, model_js

    if app.builder.format != "html" or not (Path(app.srcdir) / PAGE).is_file():
        return
    logger = logging.getLogger(__name__)
    logger.info(f"draw page: the MLP (trained once, then read from {cache_folder()})")
    draw_model = load_or_train_draw_model()
    logger.info(f"draw page: the MLP's test accuracy {draw_model.metadata['test_accuracy']:.4f}")
    folder = asset_folder(app.confdir)
    atomic_write_text(folder / SCRIPT, SOURCE.read_text(encoding="utf-8"))
    atomic_write_text(folder / MODEL, model_js(draw_model))
    atomic_write_text(folder / SAMPLES, samples_js())


def samples_js() -> str:
    """The sample digits as a script that sets ``window.MNIST_DRAW_SAMPLES``."""
    import json

    from checks.own_digit.samples_index import sample_data_urls

    return (
        "// The course's sample digits (CC0), written when the book was built.\n"
        f"window.MNIST_DRAW_SAMPLES = {json.dumps(sample_data_urls())};\n"
    )


def _check_scripts(app: Any, exception: Exception | None) -> None:
    """After the build: every local script the draw page links exists (a moved page fails)."""
    from sphinx.util import logging

    page = Path(app.outdir) / Path(PAGE).with_suffix(".html")
    if exception is not None or app.builder.format != "html" or not page.is_file():
        return
    html = page.read_text(encoding="utf-8")
    for source in re.findall(r'<script[^>]*\ssrc="([^"]+)"', html):
        if "://" in source or source.startswith("//"):
            continue
        if not (page.parent / source.split("?")[0]).is_file():
            logging.getLogger(__name__).warning(f"{PAGE} links a missing script: {source}")


def setup(app: Any) -> dict[str, Any]:
    """Register the extension's three steps with Sphinx.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application building the book.

    Returns
    -------
    dict
        The extension's metadata (safe for parallel reading and writing).
    """
    app.connect("config-inited", _prepare, priority=100)  # Sphinx validates at 800
    app.connect("builder-inited", _write_assets)
    app.connect("build-finished", _check_scripts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
