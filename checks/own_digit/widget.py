"""Draw a digit in a notebook: the book's drawing canvas as a widget that hands the 28x28 to Python.

``draw_digit()`` shows :class:`DigitCanvas` where widgets run (JupyterLab, Jupyter Notebook 7,
VS Code, Google Colab with its custom widget manager, which it turns on); elsewhere it prints one
line saying how to use an image file instead. The widget runs the same JavaScript as the book's
"Draw a digit" page (``static/draw_digit.js``): the canvas, the preprocessing of
:func:`checks.own_digit.to_mnist`, and, given an MLP, its probabilities.

Example, in a notebook::

    from checks.own_digit.widget import draw_digit
    canvas = draw_digit()          # draw in it, then in the next cell:
    canvas.digit                   # the 28x28 uint8 image, or None before the first stroke
    model.predict(canvas.digit.reshape(1, -1))
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

try:
    import anywidget
    import traitlets
except ImportError:  # the course extra installs anywidget; a bare install may lack it
    anywidget = None

SCRIPT = Path(__file__).resolve().parent / "static" / "draw_digit.js"
SIZE = 28
FALLBACK = (
    "widgets cannot run here: save a drawing as a PNG and use "
    "checks.own_digit.to_mnist('my_digit.png')"
)
NO_ANYWIDGET = (
    "the drawing widget needs anywidget (%pip install anywidget, then restart), or save a "
    "drawing as a PNG and use checks.own_digit.to_mnist('my_digit.png')"
)

# The widget's ES module: the shared script, then what connects it to the widget's model.
_GLUE = """
export default {
  render({ model, el }) {
    const weights = model.get("weights");
    DrawDigit.mount(el, {
      model: weights && weights.layers ? weights : null,
      canvasSize: model.get("size"),
      onChange(state) {
        model.set("image", state.image28 ? Array.from(state.image28) : []);
        const bytes = new Uint8Array(state.rgba.buffer, state.rgba.byteOffset, state.rgba.length);
        model.set("rgba", new DataView(bytes.slice().buffer));
        model.save_changes();
      },
    });
  },
};
"""


def widget_module() -> str:
    """The widget's ES module: ``static/draw_digit.js`` followed by the widget's ``render``."""
    return SCRIPT.read_text(encoding="utf-8") + _GLUE


def image_from_list(values: list[int]) -> np.ndarray | None:
    """The 28x28 uint8 image from the widget's flat list of 784 values (None when empty).

    Parameters
    ----------
    values : list of int
        Row-major pixel values 0..255, as the widget's ``image`` traitlet holds them.

    Returns
    -------
    numpy.ndarray or None
        Shape (28, 28), dtype uint8; None when nothing is drawn.

    Raises
    ------
    ValueError
        When there are neither 0 nor 784 values, or a value is outside 0..255.
    """
    if len(values) == 0:
        return None
    array = np.asarray(values, dtype=np.int64)
    if array.shape != (SIZE * SIZE,) or array.min() < 0 or array.max() > 255:
        raise ValueError(f"expected 784 values from 0 to 255, got {array.shape[0]}")
    return array.astype(np.uint8).reshape(SIZE, SIZE)


def rgba_from_bytes(data: bytes, size: int) -> np.ndarray | None:
    """The canvas's pixels, (size, size, 4) uint8 RGBA, from the widget's bytes (None if empty).

    Parameters
    ----------
    data : bytes
        Row-major RGBA, 4 bytes a pixel.
    size : int
        The canvas's side in pixels.

    Returns
    -------
    numpy.ndarray or None
        Shape (size, size, 4), dtype uint8; None before the canvas has drawn.

    Raises
    ------
    ValueError
        When the number of bytes is not ``size * size * 4``.
    """
    if not data:
        return None
    if len(data) != size * size * 4:
        raise ValueError(f"expected {size * size * 4} bytes of RGBA, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(size, size, 4).copy()


def _as_bytes(value: Any, widget: Any) -> bytes:
    """The widget's binary value as bytes (ipywidgets hands over a memoryview)."""
    return bytes(value) if value is not None else b""


if anywidget is not None:

    class DigitCanvas(anywidget.AnyWidget):
        """A canvas to draw a digit on; ``.digit`` is what ``to_mnist`` makes of the drawing.

        Parameters
        ----------
        model : sklearn.neural_network.MLPClassifier, optional
            A fitted MLP with ReLU hidden layers, trained on 784 pixels / 255: its ten
            probabilities are shown as bars after each stroke.
        size : int, default=280
            The canvas's side in pixels.

        Attributes
        ----------
        digit : numpy.ndarray or None
            The 28x28 uint8 image after the last stroke (None before any).
        canvas_rgba : numpy.ndarray or None
            The canvas's pixels, (size, size, 4) uint8.
        """

        _esm = widget_module()
        image = traitlets.List(traitlets.Int(), default_value=[]).tag(sync=True)
        # The browser's bytes arrive as a memoryview, which traitlets.Bytes refuses.
        rgba = traitlets.Bytes(b"").tag(sync=True, from_json=_as_bytes)
        size = traitlets.Int(280).tag(sync=True)
        weights = traitlets.Dict({}).tag(sync=True)

        def __init__(self, model: Any = None, size: int = 280, **kwargs: Any) -> None:
            weights = {}
            if model is not None:
                from sklearn.neural_network import MLPClassifier

                from checks.own_digit.draw_model import model_description

                if not isinstance(model, MLPClassifier):
                    raise TypeError(
                        "the canvas computes the probabilities of an MLPClassifier only, not of "
                        f"a {type(model).__name__}: call draw_digit() without a model and "
                        "predict canvas.digit in Python"
                    )

                weights = model_description(model)
            super().__init__(size=size, weights=weights, **kwargs)

        @property
        def digit(self) -> np.ndarray | None:
            """The 28x28 uint8 image the last stroke gave (None before any)."""
            return image_from_list(self.image)

        @property
        def canvas_rgba(self) -> np.ndarray | None:
            """The canvas's pixels as (size, size, 4) uint8 RGBA (None before it has drawn)."""
            return rgba_from_bytes(self.rgba, self.size)


def in_a_kernel() -> bool:
    """Whether this Python is a Jupyter kernel (where widgets can be shown)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ipython = shell.get_ipython()
    return ipython is not None and getattr(ipython, "kernel", None) is not None


def draw_digit(model: Any = None) -> Any:
    """A drawing canvas in the notebook, or one line saying how to use an image file instead.

    Parameters
    ----------
    model : sklearn.neural_network.MLPClassifier, optional
        A fitted MLP (ReLU, trained on pixels / 255) whose probabilities the widget shows.

    Returns
    -------
    DigitCanvas or None
        The widget (displayed when it is a cell's last value), or None where widgets cannot run,
        after printing how to fall back to an image file.
    """
    if not in_a_kernel():
        print(FALLBACK)
        return None
    if anywidget is None:
        print(NO_ANYWIDGET)
        return None
    if "google.colab" in sys.modules:  # Colab shows anywidget only with its custom manager
        from google.colab import output

        output.enable_custom_widget_manager()
    return DigitCanvas(model=model)
