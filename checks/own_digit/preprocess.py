"""Make any image of a digit look like an MNIST digit, as MNIST itself was made.

LeCun's recipe: the digit is scaled to fit a 20x20 box keeping its aspect ratio (by area
averaging, which gives MNIST its gray edges), then placed in a 28x28 frame so that its centre of
mass sits at the centre. Before that, a photograph or a drawing must become "white ink on black":
turned upright from its EXIF orientation, made gray, inverted when the paper is light, its
background removed and the digit cut out.

The algorithm is fixed, step by step, because the book's draw-a-digit page re-implements it in
JavaScript and a test compares both (see ``docs`` of :func:`preprocess_steps`). Every rounding is
``floor(x + 0.5)`` (not Python's banker's ``round``), as JavaScript's ``Math.floor(x + 0.5)``.

1. **Load**: an image of more than :data:`MAX_PIXELS` (40 megapixels; a phone's photo has 12)
   or of no pixel is refused (:class:`UnreadableImage` for a file, else ``ValueError``);
   ``ImageOps.exif_transpose``; an alpha channel is composited over white in integers,
   ``c' = (c*a + 255*(255 - a) + 127) // 255``; gray by PIL's "L" formula in integers,
   ``L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16``. Then float64, 0..255.
2. **Polarity**: the background is the median of the border pixels (those within
   ``b = max(1, floor(0.05*min(H, W) + 0.5))`` of an edge). Above 127 the paper is light and
   ``ink = 255 - gray``, else ``ink = gray``. Then ``ink - median(border of ink)``, clipped at 0.
3. **Threshold**: if ``max(ink) < 32`` there is no digit (:class:`NoDigitFound`). Otsu's threshold
   ``t`` on the 256-bin histogram of ``floor(ink + 0.5)`` (for each ``t``: ``w0``, ``w1`` the
   counts at or below and above ``t``, ``s0`` the sum of ``i*hist[i]`` at or below, ``S`` the
   total; ``var = w0*w1*(s0/w0 - (S - s0)/w1)**2``, 0 when ``w0`` or ``w1`` is 0; the first
   maximum wins). Pixels with ``ink <= t`` become 0, the others keep their value. Fewer than
   :data:`MIN_INK_PIXELS` (5) pixels left is a dot, not a digit (:class:`NoDigitFound`).
4. **Crop** to the bounding box of the non-zero pixels; rescale ``x*255/max``.
5. **Resize** so that the longer side ``m`` is 20: ``(max(1, floor(h*20/m + 0.5)),
   max(1, floor(w*20/m + 0.5)))``, by exact area averaging, rows then columns (see
   :func:`area_resize_axis`).
6. **Centre**: paste at ``((28 - h')//2, (28 - w')//2)`` into 28x28 zeros; the centre of mass
   ``(cy, cx)`` (``scipy.ndimage.center_of_mass``: row, column); shift by
   ``(floor(14 - cy + 0.5), floor(14 - cx + 0.5))``, clipped so that the box stays in the frame.
7. **Round**: ``floor(x + 0.5)``, clipped to 0..255, uint8.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from checks.files import shown_path

#: What :func:`to_mnist` accepts: a file path, a PIL image, or a uint8 array (H, W), (H, W, 3)
#: RGB or (H, W, 4) RGBA.
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray]  # noqa: UP007 (a runtime alias)

SIZE = 28  # MNIST's frame
BOX = 20  # the longer side of the digit in the frame
CENTRE = 14.0  # where the centre of mass is put (row and column, scipy.ndimage convention)
BORDER_FRACTION = 0.05  # the border whose median is the background
MIN_INK = 32  # below this maximum ink (0..255), the image holds no digit
#: Fewer pixels than this above the threshold (step 3) are a dot, not a digit. Of MNIST's 70,000
#: digits, fed to this recipe, the fewest keep 20 pixels above it (in a 20-pixel box); a digit
#: written at half that size keeps a quarter of them: 20 / 4 = 5.
MIN_INK_PIXELS = 5
#: The largest image read, in pixels: 40 megapixels (a phone's photo has 12). The recipe holds a
#: few float64 copies of the image, about 1.5 GB at this size, within the course's 3 GB.
MAX_PIXELS = 40_000_000


class NoDigitFound(ValueError):
    """The image holds no digit: nothing darker (or lighter) than its background."""


class UnreadableImage(ValueError):
    """The file is missing, not a regular file, not an image Pillow can read, or too large."""


def round_half_up(values: np.ndarray | float) -> np.ndarray:
    """``floor(x + 0.5)``: the rounding of every step, identical in JavaScript.

    Python's ``round`` and NumPy's ``round`` round halves to even (``round(2.5) == 2``);
    JavaScript's ``Math.round`` rounds them up. ``floor(x + 0.5)`` is the same in both.

    Parameters
    ----------
    values : array_like or float
        The values to round.

    Returns
    -------
    numpy.ndarray
        The rounded values, float64.

    See Also
    --------
    to_mnist : Rounds with it at every step.

    Examples
    --------
    >>> round_half_up(np.array([0.5, 1.5, 2.4])).tolist()
    [1.0, 2.0, 2.0]
    """
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5)


def _half_up(value: float) -> int:
    return int(np.floor(value + 0.5))


def load_gray(image: ImageLike) -> np.ndarray:
    """Step 1: the image upright, alpha composited over white, gray by PIL's "L" formula.

    Step 1 of :func:`to_mnist`.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        A file path or a PIL image (turned upright by its EXIF orientation), or a uint8 array
        (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA.

    Returns
    -------
    numpy.ndarray
        The gray image, float64, values 0..255 (integers).

    Raises
    ------
    UnreadableImage
        The path does not exist, is not a regular file or is not an image, or its image has
        more than :data:`MAX_PIXELS` pixels.
    TypeError, ValueError
        An array of another shape or type, of no pixel or of more than :data:`MAX_PIXELS`.

    See Also
    --------
    ink_of : Step 2.

    Examples
    --------
    >>> load_gray(np.full((2, 3, 4), 255, dtype=np.uint8)).shape
    (2, 3)
    """
    if isinstance(image, (str, os.PathLike)):
        rgba = _read_file(Path(image))
    elif isinstance(image, Image.Image):
        rgba = _from_pil(image)
    elif isinstance(image, np.ndarray):
        rgba = _from_array(image)
    else:
        raise TypeError(
            f"expected a file path, a PIL image or a uint8 array, not {type(image).__name__}"
        )
    if rgba.ndim == 2:  # gray: the "L" formula gives the value itself
        return rgba.astype(np.float64)
    # One (H, W) int32 channel at a time (the largest value, 255*65536 + 0x8000, fits): an
    # (H, W, 3) int64 copy is 24 bytes a pixel, 9 GB for a 20000x20000 image.
    gray = np.full(rgba.shape[:2], 0x8000, dtype=np.int32)
    for channel, weight in enumerate((19595, 38470, 7471)):
        values = rgba[..., channel].astype(np.int32)
        if rgba.shape[-1] == 4:
            alpha = rgba[..., 3].astype(np.int32)
            values = (values * alpha + 255 * (255 - alpha) + 127) // 255
        gray += values * weight
    return (gray >> 16).astype(np.float64)


def _check_size(height: int, width: int, error: type[ValueError], name: str) -> None:
    """Refuse an image of no pixel or of more than :data:`MAX_PIXELS` (step 1)."""
    if height * width == 0:
        raise error(f"{name} has no pixel ({height}x{width})")
    if height * width > MAX_PIXELS:
        raise error(
            f"{name} is {width:,}x{height:,} pixels, more than the "
            f"{MAX_PIXELS // 1_000_000} megapixels accepted: make it smaller"
        )


def _read_file(path: Path) -> np.ndarray:
    name = shown_path(path)
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # missing, a NUL byte, a loop of links
        raise UnreadableImage(f"no such image file: {name}") from None
    if stat.S_ISDIR(mode):
        raise UnreadableImage(f"{name} is a folder, not an image file")
    if not stat.S_ISREG(mode):
        raise UnreadableImage(f"{name} is not a regular file (a device or a pipe?)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
            with Image.open(path) as opened:
                _check_size(opened.height, opened.width, UnreadableImage, f"the image {name}")
                return _from_pil(opened)
    except Image.DecompressionBombError:
        raise UnreadableImage(
            f"the image {name} is more than the {MAX_PIXELS // 1_000_000} megapixels accepted: "
            "make it smaller"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, UnreadableImage):
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableImage(f"cannot read {name} as an image ({message})") from None


def _from_pil(image: Image.Image) -> np.ndarray:
    _check_size(image.height, image.width, ValueError, "the image")
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        raise UnreadableImage(
            f"{upright.mode}-mode images (16-bit or float) are not supported: save it as 8-bit"
        )
    return np.asarray(upright.convert("RGBA" if has_alpha else "RGB"))


def _from_array(array: np.ndarray) -> np.ndarray:
    if array.dtype != np.uint8:
        raise TypeError(f"an image array must be uint8 (0..255), not {array.dtype}")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4)):
        _check_size(array.shape[0], array.shape[1], ValueError, "the image array")
        return array
    raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), not {array.shape}")


def border_median(values: np.ndarray) -> float:
    """The median of the pixels within ``max(1, floor(0.05*min(H, W) + 0.5))`` of an edge.

    The background's level, step 2 of :func:`to_mnist`: a digit rarely touches the edges.

    Parameters
    ----------
    values : numpy.ndarray
        A 2-D image.

    Returns
    -------
    float
        The median (the mean of the two middle values when their number is even).

    See Also
    --------
    ink_of : Uses it twice.

    Examples
    --------
    >>> image = np.zeros((5, 5))
    >>> image[1:4, 1:4] = 9
    >>> border_median(image)
    0.0
    """
    height, width = values.shape
    width_of_border = max(1, _half_up(BORDER_FRACTION * min(height, width)))
    mask = np.ones(values.shape, dtype=bool)
    mask[width_of_border : height - width_of_border, width_of_border : width - width_of_border] = (
        False
    )
    return float(np.median(values[mask]))


def ink_of(gray: np.ndarray) -> np.ndarray:
    """Step 2: the ink, 0 on the background, whichever the paper's polarity.

    Step 2 of :func:`to_mnist`: whatever the paper, the digit becomes bright on black.

    Parameters
    ----------
    gray : numpy.ndarray
        The gray image from :func:`load_gray`.

    Returns
    -------
    numpy.ndarray
        ``255 - gray`` on light paper (border median above 127), else ``gray``; minus its own
        border median, clipped at 0.

    See Also
    --------
    border_median : The background estimate.

    Examples
    --------
    >>> ink_of(np.array([[250.0, 250.0, 250.0], [250.0, 10.0, 250.0], [250.0, 250.0, 250.0]]))[1, 1]
    np.float64(240.0)
    """
    ink = 255.0 - gray if border_median(gray) > 127 else gray.copy()
    return np.clip(ink - border_median(ink), 0.0, None)


def otsu_threshold(ink: np.ndarray) -> int:
    """Compute Otsu's threshold of the 256-bin histogram of ``floor(ink + 0.5)``.

    Step 3 of :func:`to_mnist`: the threshold that best separates ink from background
    (the largest between-class variance; the first maximum wins).

    Parameters
    ----------
    ink : numpy.ndarray
        Values 0..255.

    Returns
    -------
    int
        The threshold ``t``: values at or below it are background.

    See Also
    --------
    to_mnist : The whole recipe.

    Examples
    --------
    >>> otsu_threshold(np.array([0.0, 0.0, 10.0, 200.0, 210.0]))
    10
    """
    histogram = np.bincount(round_half_up(ink).astype(np.int64).ravel(), minlength=256)[:256]
    levels = np.arange(256, dtype=np.float64)
    below = np.cumsum(histogram).astype(np.float64)  # w0, exact integers
    sum_below = np.cumsum(levels * histogram)  # s0, exact integers
    total, total_sum = below[-1], sum_below[-1]
    above = total - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = below * above * (sum_below / below - (total_sum - sum_below) / above) ** 2
    between[(below == 0) | (above == 0)] = 0.0
    return int(np.argmax(between))


def area_resize_axis(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Resize one axis by exact area averaging (fractional overlaps weighted).

    Output ``i`` covers the input interval ``[i*n/size, (i + 1)*n/size)`` (``n`` the input
    length); its value is ``sum_j overlap_j * x_j`` (``j`` increasing, the overlap of
    ``[j, j + 1)`` with that interval) divided by ``n/size``. The same formula upscales.

    Parameters
    ----------
    values : numpy.ndarray
        A 2-D float64 image.
    size : int
        The new length of ``axis``.
    axis : int
        0 resizes the rows (the height), 1 the columns (the width).

    Returns
    -------
    numpy.ndarray
        The resized image, float64.

    See Also
    --------
    to_mnist : Step 5 resizes rows, then columns, with this.

    Examples
    --------
    >>> area_resize_axis(np.array([[0.0, 1.0, 2.0, 3.0]]), 2, axis=1).tolist()
    [[0.5, 2.5]]
    """
    moved = np.moveaxis(values, axis, 0)
    length = moved.shape[0]
    scale = length / size
    out = np.zeros((size, *moved.shape[1:]), dtype=np.float64)
    for i in range(size):
        low, high = i * length / size, (i + 1) * length / size
        accumulated = np.zeros(moved.shape[1:], dtype=np.float64)
        for j in range(int(np.floor(low)), min(length, int(np.ceil(high)))):
            overlap = min(j + 1.0, high) - max(float(j), low)
            if overlap > 0:
                accumulated = accumulated + overlap * moved[j]
        out[i] = accumulated / scale
    return np.moveaxis(out, 0, axis)


def preprocess_steps(image: ImageLike) -> dict[str, np.ndarray]:
    """Every step of :func:`to_mnist`, for pictures of the recipe.

    Each step's output, for pictures of the recipe (chapter 10 draws them side by side).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        As for :func:`to_mnist`.

    Returns
    -------
    dict of str to numpy.ndarray
        In order: ``"gray"`` (step 1, 0..255), ``"ink"`` (step 2), ``"thresholded"`` (step 3),
        ``"cropped"`` (step 4, rescaled to a maximum of 255), ``"resized"`` (step 5, the longer
        side 20), ``"pasted"`` (the 28x28 frame before centring), ``"mnist"`` (steps 6 and 7:
        28x28 uint8, what :func:`to_mnist` returns). All float64 except ``"mnist"``.

    Raises
    ------
    NoDigitFound
        The image holds no digit (its ink never reaches 32 of 255), or only a dot (fewer than
        :data:`MIN_INK_PIXELS` pixels above the threshold).
    UnreadableImage
        A path that is missing or not an image.

    See Also
    --------
    to_mnist : Only the result.

    Examples
    --------
    >>> canvas = np.full((100, 80), 255, dtype=np.uint8)
    >>> canvas[20:80, 35:45] = 0  # a black "1" on white
    >>> steps = preprocess_steps(canvas)
    >>> list(steps)
    ['gray', 'ink', 'thresholded', 'cropped', 'resized', 'pasted', 'mnist']
    >>> steps["resized"].shape
    (20, 3)
    """
    gray = load_gray(image)
    ink = ink_of(gray)
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_INK:
        raise NoDigitFound(
            "no digit found: the image is uniform (nothing stands out from its background)"
        )
    threshold = otsu_threshold(ink)
    thresholded = np.where(ink > threshold, ink, 0.0)
    count = int(np.count_nonzero(thresholded))
    if count < MIN_INK_PIXELS:
        raise NoDigitFound(
            "no digit found: what stands out from the background is a dot of "
            f"{count} pixel{'' if count == 1 else 's'}, not a digit"
        )
    rows = np.flatnonzero(thresholded.any(axis=1))
    columns = np.flatnonzero(thresholded.any(axis=0))
    cropped = thresholded[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    cropped = cropped * 255.0 / cropped.max()
    height, width = cropped.shape
    longer = max(height, width)
    new_height = max(1, _half_up(height * BOX / longer))
    new_width = max(1, _half_up(width * BOX / longer))
    resized = area_resize_axis(area_resize_axis(cropped, new_height, 0), new_width, 1)
    top, left = (SIZE - new_height) // 2, (SIZE - new_width) // 2
    pasted = np.zeros((SIZE, SIZE), dtype=np.float64)
    pasted[top : top + new_height, left : left + new_width] = resized
    centre_row, centre_column = ndimage.center_of_mass(pasted)
    shift_rows = int(np.clip(_half_up(CENTRE - centre_row), -top, SIZE - new_height - top))
    shift_columns = int(np.clip(_half_up(CENTRE - centre_column), -left, SIZE - new_width - left))
    centred = np.zeros((SIZE, SIZE), dtype=np.float64)
    row, column = top + shift_rows, left + shift_columns
    centred[row : row + new_height, column : column + new_width] = resized
    mnist = np.clip(round_half_up(centred), 0, 255).astype(np.uint8)
    return {
        "gray": gray,
        "ink": ink,
        "thresholded": thresholded,
        "cropped": cropped,
        "resized": resized,
        "pasted": pasted,
        "mnist": mnist,
    }


def to_mnist(image: ImageLike) -> np.ndarray:
    """An image of a digit as MNIST would have it: 28x28, white ink (255) on black (0).

    The recipe of the module's description, step by step as the book's draw-a-digit page
    runs it in JavaScript.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        A file path or a PIL image (turned upright by its EXIF orientation, an alpha channel
        composited over white), or a uint8 array (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA.
        Dark ink on light paper or light ink on a dark background: both work.

    Returns
    -------
    numpy.ndarray
        28x28 uint8. ``to_mnist(image).reshape(1, -1)`` is one row of MNIST's ``data``.

    Raises
    ------
    NoDigitFound
        The image holds no digit (a ``ValueError`` with a one-line message).
    UnreadableImage
        A path that is missing or not an image (a ``ValueError``).

    See Also
    --------
    preprocess_steps : The same, with every intermediate image.
    plain_resize : The naive way, for comparison.

    Examples
    --------
    >>> canvas = np.full((100, 80), 255, dtype=np.uint8)
    >>> canvas[20:80, 35:45] = 0
    >>> digit = to_mnist(canvas)
    >>> digit.shape, digit.dtype, int(digit.max())
    ((28, 28), dtype('uint8'), 255)
    """
    return preprocess_steps(image)["mnist"]


def plain_resize(image: ImageLike) -> np.ndarray:
    """The naive way, for comparison: the whole image gray and resized to 28x28, nothing else.

    No inversion, no crop, no centring: what a model receives when its user skips
    :func:`to_mnist`. Bilinear resize by Pillow of the gray image of :func:`load_gray`.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        As for :func:`to_mnist`.

    Returns
    -------
    numpy.ndarray
        28x28 uint8.

    See Also
    --------
    to_mnist : The recipe that makes an image MNIST-like.

    Examples
    --------
    >>> plain_resize(np.full((100, 80), 255, dtype=np.uint8)).max()
    np.uint8(255)
    """
    gray = Image.fromarray(load_gray(image).astype(np.uint8))
    return np.asarray(gray.resize((SIZE, SIZE), Image.Resampling.BILINEAR))
