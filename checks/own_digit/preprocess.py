"""Make any image of a digit look like an MNIST digit: MNIST's recipe, for real photos and drawings.

LeCun's recipe: the black-and-white digits of NIST were scaled to fit a 20x20 box keeping their
aspect ratio (by area averaging, which gives MNIST its gray edges), then placed in a 28x28 frame
so that their centre of mass sits at the centre. Before that, a photo or a drawing must become a
clean black-and-white digit: turned upright, made gray, its ink told from its paper, the digit
told from everything else on the page, its strokes given MNIST's width.

:func:`to_mnist` follows the course's recipe (``recipe="robust"``, below); ``recipe="classic"``
keeps the first one of the course, a single global threshold (Otsu's) then MNIST's size
normalisation and centring (NIST's own images were already bilevel: MNIST had no threshold), which
reads clean drawings but fails on many real photos (chapter 10 and
``benchmarks/real_digits.py`` measure both).

The algorithm is fixed, step by step, because the book's draw-a-digit page re-implements it in
JavaScript (``static/draw_digit.js``) and a test compares both byte for byte. Every rounding is
``floor(x + 0.5)`` (not Python's banker's ``round``), as JavaScript's ``Math.floor(x + 0.5)``; the
cleaning steps work on integers and booleans (:mod:`checks.own_digit.morphology`).

1. **Load**: an image of more than :data:`MAX_PIXELS` (40 megapixels; a phone's photo has 12)
   or of no pixel is refused (:class:`UnreadableImage` for a file, else ``ValueError``);
   ``ImageOps.exif_transpose``; an alpha channel is composited over white in integers,
   ``c' = (c*a + 255*(255 - a) + 127) // 255``; gray by PIL's "L" formula in integers,
   ``L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16``. Then float64, 0..255.
2. **Polarity**: the paper's level ``p`` is the median of the image (the paper covers most of
   it, even with a table around the sheet). ``S`` is the sum of each pixel's 3x3 neighbourhood
   (:func:`~checks.own_digit.morphology.box_sum3`). The ink is dark if
   ``9*p - min(S) >= max(S) - 9*p``: what stands out most from the paper, darker or lighter, is
   the ink (a mid-gray paper is no longer taken for a dark one). ``paper = gray`` for dark ink,
   else ``255 - gray``: the ink is now darker than its paper.
3. **Ink**: the paper's own brightness around each pixel is ``B``, the closing of
   ``box_sum3(paper)`` by a square of side ``k = 2*floor(min(H, W)/8 + 0.5) + 1`` (about a
   quarter of the shorter side: :func:`~checks.own_digit.morphology.closing`), which fills pen
   strokes with the paper around them but keeps shadows and light falling off.
   ``ink = max((d - median(d))/9, 0)`` with ``d = B - 9*paper``. If ``max(ink) < 32`` there is no
   digit (:class:`NoDigitFound`).
4. **Threshold**: Otsu's threshold ``t`` (:func:`otsu_threshold`) of the ink; ``level``, the
   median ink of the pixels above ``t``; the digit's pixels are those with
   ``ink > max(t, 0.4*level)`` (faint marks, ghost strokes pressed through from another page,
   light printed lines are left out). From here the digit is black and white (NIST's was).
5. **Ruled lines**: a band of consecutive rows in which at least 90 % of the pixels are ink is a
   line across the page when it is at most ``max(2, floor(0.05*H + 0.5))`` rows thick: it is
   cleared, except in the columns where a stroke crosses it (ink in the row just above and the
   row just below the band, in that column or one either side), if at least
   :data:`MIN_INK_PIXELS` pixels remain. If the page has lines (those rows, or marks that are lines,
   step 6), their ink weighs on the threshold: their pixels' ink is made 0 and steps 4 and 5 are
   taken again, provided the ink left reaches ``max(32, max(ink)/4)`` (else the line may be the
   digit, a "1" cropped tight).
6. **The digit**: the marks (groups of 8-connected pixels, numbered in reading order:
   :func:`~checks.own_digit.morphology.label_marks`), each with its box, pixels and ink (its sum,
   in reading order). A *line* is a mark at least 90 % as long as the image is wide (high) and at
   most ``max(3, 0.06*length)`` thick. Weight: 0 for a line, half its ink for a mark within
   ``b = max(1, floor(0.05*min(H, W) + 0.5))`` of an edge (a neighbour cut by the frame), else
   its ink; if every weight is 0 the ink itself.
   The digit is the mark of the largest weight (the first one on a tie), plus every other mark
   that is not a line, has at least 10 % of its ink, overlaps its columns widened by 10 % of its
   size (its longer side ``s``) and lies at most ``s/2`` above or below it: the parts of one
   digit. A mark left out that is not a line, touches no edge and has half its ink or more is
   another digit: :class:`NoDigitFound`, "no single digit". Fewer than :data:`MIN_INK_PIXELS`
   pixels is a dot (:class:`NoDigitFound`).
7. **Crop** to the digit's bounding box, 1 on its marks' pixels, 0 elsewhere.
8. **Pen**: the crop resized by area averaging (as step 10) so that its longer side is
   :data:`PEN_BOX` (80: four times MNIST's 20), its pixels above 0 the digit. Its stroke width
   ``w = 2*area/perimeter`` (:func:`~checks.own_digit.morphology.stroke_width`) is brought to
   MNIST's, :data:`MNIST_STROKE` (2 pixels of the 20-pixel box, ``T = 8`` here) when it lies
   outside most of MNIST's: with ``r = floor(|T - w|/(2*(1 - 2/20)) + 0.5)``, a digit thinner
   than :data:`THINNEST_STROKE` (1.5 pixels, 6 here) is retraced with a round pen of radius ``r``
   (:func:`~checks.own_digit.morphology.dilate`); one thicker than :data:`THICKEST_STROKE`
   (3 pixels, 12 here) is eroded by ``r``
   (:func:`~checks.own_digit.morphology.erode`), unless that breaks a stroke (another number of
   marks) or leaves nothing. Then cropped to its bounding box again.
9. **Resize** ``255*pen`` so that the longer side ``m`` is 20: ``(max(1, floor(h*20/m + 0.5)),
   max(1, floor(w*20/m + 0.5)))``, by exact area averaging, rows then columns (see
   :func:`area_resize_axis`).
10. **Centre**: paste at ``((28 - h')//2, (28 - w')//2)`` into 28x28 zeros; the centre of mass
    ``(cy, cx)`` (``scipy.ndimage.center_of_mass``: row, column); shift by
    ``(floor(14 - cy + 0.5), floor(14 - cx + 0.5))``, clipped so that the box stays in the frame.
11. **Round**: ``floor(x + 0.5)``, clipped to 0..255, uint8.

The classic recipe: steps 1, then **polarity** by the border median alone (above 127 the paper
is light and ``ink = 255 - gray``, else ``ink = gray``; then ``ink - median(border of ink)``,
clipped at 0: :func:`ink_of`), Otsu's threshold on the ink with the values kept above it (no
black and white), the crop rescaled to a maximum of 255, then steps 9 to 11.
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
from checks.own_digit.morphology import (
    box_sum3,
    closing,
    dilate,
    erode,
    label_marks,
    stroke_width,
)

#: What :func:`to_mnist` accepts: a file path, a PIL image, or a uint8 array (H, W), (H, W, 3)
#: RGB or (H, W, 4) RGBA.
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray]  # noqa: UP007 (a runtime alias)

SIZE = 28  # MNIST's frame
BOX = 20  # the longer side of the digit in the frame
CENTRE = 14.0  # where the centre of mass is put (row and column, scipy.ndimage convention)
BORDER_FRACTION = 0.05  # the border: its median is the classic recipe's background; step 6
MIN_INK = 32  # below this maximum ink (0..255), the image holds no digit
#: Fewer pixels than this above the threshold (step 3) are a dot, not a digit. Of MNIST's 70,000
#: digits, fed to this recipe, the fewest keep 20 pixels above it (in a 20-pixel box); a digit
#: written at half that size keeps a quarter of them: 20 / 4 = 5.
MIN_INK_PIXELS = 5
#: The largest image read, in pixels: 40 megapixels (a phone's photo has 12). The recipe holds a
#: few float64 copies of the image, about 1.5 GB at this size, within the course's 3 GB.
MAX_PIXELS = 40_000_000
#: The recipes :func:`to_mnist` knows: the course's (the default) and the classic one.
RECIPES = ("robust", "classic")
#: Step 3: the paper's window is about this share of the image's shorter side, on each side of a
#: pixel (1/8: a square of a quarter of the side), far wider than any pen stroke.
PAPER_WINDOW = 1 / 8
#: Step 4: a pixel is ink if above Otsu's threshold and above this share of the digit's level.
LEVEL_FRACTION = 0.4
#: Steps 5 and 6: a line runs across at least this share of the image, ...
LINE_LENGTH = 0.9
#: ... and is at most this share of its length thick.
LINE_THICKNESS = 0.06
#: Step 6: another mark is part of the digit with at least this share of its ink, ...
PART_INK = 0.1
#: ... and a mark left out with this share of the digit's ink or more is another digit.
RIVAL_INK = 0.5
#: Step 8: the size at which the pen works, four times MNIST's box.
PEN_BOX = 80
#: MNIST's median stroke width, in pixels of the 20-pixel box: twice the area over the perimeter
#: of the pixels of 128 or more, 1.96 on the first 10,000 training images (chapter 10 measures it).
MNIST_STROKE = 2.0
#: A stroke thinner than this (MNIST's 10th percentile: 1.41) is thickened to MNIST's width, ...
THINNEST_STROKE = 1.5
#: ... one thicker than this (its 95th percentile: 3.07) thinned to it; others are left alone.
THICKEST_STROKE = 3.0


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


def polarity(gray: np.ndarray) -> bool:
    """Step 2: whether the ink is darker than its paper (what stands out most from the paper).

    Step 2 of :func:`to_mnist`: the paper's level is the image's median; the ink is the side,
    darker or lighter, that departs the most from it in a 3x3 neighbourhood.

    Parameters
    ----------
    gray : numpy.ndarray
        The gray image from :func:`load_gray`.

    Returns
    -------
    bool
        True for dark ink on light paper, False for light ink (chalk on a board, a white
        stroke on a black canvas).

    See Also
    --------
    ink_of : The classic recipe's rule, the border's median against 127.

    Examples
    --------
    >>> paper = np.full((30, 30), 110.0)  # mid-gray paper, darker ink
    >>> paper[5:25, 14:17] = 40.0
    >>> polarity(paper)
    True
    """
    level = float(np.median(gray))
    sums = box_sum3(gray)
    return 9.0 * level - float(sums.min()) >= float(sums.max()) - 9.0 * level


def paper_window(height: int, width: int) -> int:
    """Step 3: the side of the square over which the paper's brightness is taken, odd.

    ``2*floor(min(height, width)/8 + 0.5) + 1``: about a quarter of the shorter side.

    Parameters
    ----------
    height, width : int
        The image's size.

    Returns
    -------
    int
        The window's side.

    Examples
    --------
    >>> paper_window(280, 280)
    71
    """
    return 2 * _half_up(min(height, width) * PAPER_WINDOW) + 1


def ink_on_paper(gray: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Step 3: the ink, 0 on the paper, wherever the paper is darker or lighter.

    The paper around each pixel is the closing of its 3x3 sums by a square of
    :func:`paper_window`: pen strokes are filled by the paper beside them, a shadow or a page lit
    from one side is kept. The ink is how much darker than that paper each pixel is, less the
    median over the image (the paper's grain), in gray levels.

    Parameters
    ----------
    gray : numpy.ndarray
        The gray image from :func:`load_gray`.
    dark_ink : bool
        From :func:`polarity`.

    Returns
    -------
    numpy.ndarray
        The ink, float64, 0 or more.

    See Also
    --------
    checks.own_digit.morphology.closing : The paper's brightness.

    Examples
    --------
    >>> paper = np.full((40, 40), 200.0)
    >>> paper[:, 20:] = 120.0  # a shadow over half the page
    >>> paper[10:30, 8:11] = 60.0  # a stroke in the light half
    >>> ink = ink_on_paper(paper, True)
    >>> float(ink[20, 9]), float(ink[20, 30])
    (140.0, 0.0)
    """
    paper = gray if dark_ink else 255.0 - gray
    sums = box_sum3(paper)
    around = closing(sums, paper_window(*paper.shape))
    # Darker than the paper, and in a darker neighbourhood: not the edge of a sharp shadow.
    difference = np.minimum(around - 9.0 * paper, 3.0 * (around - sums))
    del sums, around
    difference -= np.median(difference)
    np.maximum(difference, 0.0, out=difference)
    return difference / 9.0


def digit_threshold(ink: np.ndarray) -> float:
    """Step 4: the ink level above which a pixel is the digit's.

    Otsu's threshold ``t``, raised to :data:`LEVEL_FRACTION` (0.4) of the median ink above it:
    Otsu's method alone, on a page where the digit holds 1 % of the pixels, keeps the faint marks
    beside it.

    Parameters
    ----------
    ink : numpy.ndarray
        From :func:`ink_on_paper`.

    Returns
    -------
    float
        ``max(t, 0.4*level)``.

    See Also
    --------
    otsu_threshold : ``t``.

    Examples
    --------
    >>> digit_threshold(np.array([0.0] * 90 + [30.0] * 5 + [200.0] * 5))
    80.0
    """
    threshold = otsu_threshold(ink)
    above = ink[ink > threshold]
    level = float(np.median(above)) if above.size else 0.0
    return max(float(threshold), LEVEL_FRACTION * level)


def clear_ruled_line(mask: np.ndarray) -> np.ndarray:
    """Step 5: bands of rows inked across 90 % of the page, cleared when thin: ruled lines.

    A stroke that crosses a line keeps its pixels there (see the module's description).

    Parameters
    ----------
    mask : numpy.ndarray
        The digit's pixels after the threshold (boolean).

    Returns
    -------
    numpy.ndarray
        The mask without those rows, or ``mask`` itself.

    Examples
    --------
    >>> page = np.zeros((40, 30), dtype=bool)
    >>> page[30, :] = True  # a ruled line
    >>> page[5:30, 14:16] = True  # a "1" standing on it
    >>> int(clear_ruled_line(page).sum())
    50
    """
    height, width = mask.shape
    full = np.count_nonzero(mask, axis=1) >= LINE_LENGTH * width
    thickest = max(2, _half_up(BORDER_FRACTION * height))
    rows = np.zeros(height, dtype=bool)
    start = None
    for row in range(height + 1):  # each band of consecutive full rows: a line if thin enough
        if row < height and full[row]:
            start = row if start is None else start
        elif start is not None:
            rows[start:row] = row - start <= thickest
            start = None
    if not rows.any():
        return mask
    cleared = mask & ~rows[:, np.newaxis]
    # A stroke that crosses a line keeps its pixels there: ink just above and just below the band
    # (a column either side, for a slanted stroke).
    padded = np.pad(mask, ((0, 0), (1, 1)))
    near = padded[:, :-2] | padded[:, 1:-1] | padded[:, 2:]
    row = 0
    while row < height:
        if not rows[row]:
            row += 1
            continue
        end = row
        while end < height and rows[end]:
            end += 1
        if row > 0 and end < height:
            crossing = near[row - 1] & near[end]
            cleared[row:end] |= mask[row:end] & crossing
        row = end
    return cleared if np.count_nonzero(cleared) >= MIN_INK_PIXELS else mask


def is_line(tall: int, wide: int, height: int, width: int) -> bool:
    """Whether a mark of this box is a line across the page (step 6).

    At least :data:`LINE_LENGTH` (90 %) as long as the image is wide (or high), and at most
    ``max(3, 0.06*length)`` thick.

    Parameters
    ----------
    tall, wide : int
        The mark's bounding box.
    height, width : int
        The image's size.

    Returns
    -------
    bool
        True for a ruled line, a box's side, a fold.

    Examples
    --------
    >>> is_line(3, 290, 400, 300), is_line(200, 20, 400, 300)
    (True, False)
    """
    return (wide >= LINE_LENGTH * width and tall <= max(3, LINE_THICKNESS * wide)) or (
        tall >= LINE_LENGTH * height and wide <= max(3, LINE_THICKNESS * tall)
    )


def digit_pixels(ink: np.ndarray) -> np.ndarray:
    """Steps 4 and 5: the pixels of the digit's ink, lines across the page left out.

    When the page has lines (step 5's rows, or marks that are lines), their ink weighs on the
    threshold (a pencil digit on dark ruled paper falls below it): their pixels are set aside
    (their ink made 0) and the threshold taken again, if the ink left reaches :data:`MIN_INK`
    and a quarter of the page's strongest (else the line may be the digit: a "1" cropped tight).

    Parameters
    ----------
    ink : numpy.ndarray
        From :func:`ink_on_paper`.

    Returns
    -------
    numpy.ndarray
        Boolean, the pixels above the threshold.

    See Also
    --------
    digit_threshold, clear_ruled_line : The two steps.

    Examples
    --------
    >>> page = np.zeros((60, 50))
    >>> page[50:52, :] = 150.0  # a dark ruled line
    >>> page[10:45, 24:27] = 60.0  # a pencil "1" above it
    >>> int(digit_pixels(page)[10:45].sum())
    105
    """
    above = ink > digit_threshold(ink)
    mask = clear_ruled_line(above)
    height, width = mask.shape
    labels, _ = label_marks(mask)
    lines = above & ~mask
    for index, (rows, columns) in enumerate(ndimage.find_objects(labels)):
        if is_line(rows.stop - rows.start, columns.stop - columns.start, height, width):
            lines[rows, columns] |= labels[rows, columns] == index + 1
    if not lines.any():
        return mask
    rest = np.where(lines, 0.0, ink)
    if float(rest.max()) < max(MIN_INK, 0.25 * float(ink.max())):
        return mask
    return clear_ruled_line(rest > digit_threshold(rest))


def select_digit(mask: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Step 6: the digit's marks, without lines, specks, shadows or a neighbour's piece.

    See step 6 of the module's description.

    Parameters
    ----------
    mask : numpy.ndarray
        The digit's pixels after steps 4 and 5 (boolean).
    ink : numpy.ndarray
        From :func:`ink_on_paper`: a mark's weight is its ink.

    Returns
    -------
    numpy.ndarray
        Boolean, the pixels of the marks kept.

    Raises
    ------
    NoDigitFound
        Nothing left, another mark as large as the digit (two digits), or only a dot.

    Examples
    --------
    >>> page = np.zeros((40, 40), dtype=bool)
    >>> page[8:30, 18:21] = True  # a "1"
    >>> page[35, 36] = True  # a speck
    >>> int(select_digit(page, page * 200.0).sum())
    66
    """
    labels, count = label_marks(mask)
    if count == 0:
        raise NoDigitFound("no digit found: nothing stands out from the background")
    height, width = mask.shape
    border = max(1, _half_up(BORDER_FRACTION * min(height, width)))
    boxes = ndimage.find_objects(labels)
    flat = labels.ravel()
    inks = np.bincount(flat, weights=ink.ravel(), minlength=count + 1)[1:]  # in reading order
    weights = np.empty(count)
    lines = np.zeros(count, dtype=bool)
    touching = np.zeros(count, dtype=bool)
    for index, (rows, columns) in enumerate(boxes):
        tall, wide = rows.stop - rows.start, columns.stop - columns.start
        lines[index] = is_line(tall, wide, height, width)
        touching[index] = (
            rows.start < border
            or columns.start < border
            or rows.stop > height - border
            or columns.stop > width - border
        )
        weights[index] = 0.0 if lines[index] else inks[index] * (0.5 if touching[index] else 1.0)
    if not weights.max() > 0.0:  # only lines: a "1" cropped tight looks like one
        weights = inks.copy()
    main = int(np.argmax(weights))
    rows, columns = boxes[main]
    size = max(rows.stop - rows.start, columns.stop - columns.start)
    left, right = columns.start - 0.1 * size, columns.stop + 0.1 * size
    kept = [main]
    rivals = 0
    for index, (other_rows, other_columns) in enumerate(boxes):
        if index == main or lines[index]:
            continue
        gap = max(0, other_rows.start - rows.stop, rows.start - other_rows.stop)
        beside = other_columns.start < right and other_columns.stop > left
        if inks[index] >= PART_INK * inks[main] and beside and gap <= 0.5 * size:
            kept.append(index)
        elif inks[index] >= RIVAL_INK * inks[main] and not touching[index]:
            rivals += 1
    if rivals:
        raise NoDigitFound(
            f"no single digit found: {rivals + 1} marks of about the same size (crop the "
            "picture to one digit)"
        )
    digit = np.isin(labels, np.array(kept, dtype=np.int32) + 1)
    pixels = int(np.count_nonzero(digit))
    if pixels < MIN_INK_PIXELS:
        raise NoDigitFound(
            "no digit found: what stands out from the background is a dot of "
            f"{pixels} pixel{'' if pixels == 1 else 's'}, not a digit"
        )
    return digit


def bounding_box(mask: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of a non-empty mask's bounding box."""
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def scaled_size(height: int, width: int, longer: int) -> tuple[int, int]:
    """The size keeping the aspect ratio with a longer side of ``longer``, rounded half up."""
    largest = max(height, width)
    return (
        max(1, _half_up(height * longer / largest)),
        max(1, _half_up(width * longer / largest)),
    )


def area_resize(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize by exact area averaging, rows then columns (:func:`area_resize_axis`)."""
    return area_resize_axis(area_resize_axis(values, size[0], 0), size[1], 1)


def with_mnist_stroke(cropped: np.ndarray) -> np.ndarray:
    """Step 8: the digit at :data:`PEN_BOX` pixels, its strokes MNIST's width.

    Parameters
    ----------
    cropped : numpy.ndarray
        The cropped digit, boolean.

    Returns
    -------
    numpy.ndarray
        Boolean, its longer side about 80 pixels, cropped to the digit; strokes thinner than
        :data:`THINNEST_STROKE` or thicker than :data:`THICKEST_STROKE` (in pixels of MNIST's
        20-pixel box) brought to :data:`MNIST_STROKE`.

    See Also
    --------
    checks.own_digit.morphology.stroke_width : How a width is measured.

    Examples
    --------
    >>> thin = np.ones((200, 2), dtype=bool)  # a "1" of a thin pen, 2 pixels wide, 200 tall
    >>> pen = with_mnist_stroke(thin)  # 80 tall, then retraced with a pen of radius 4
    >>> pen.shape, int(pen[40].sum())
    ((88, 9), 9)
    """
    work = area_resize(cropped.astype(np.float64), scaled_size(*cropped.shape, PEN_BOX)) > 0.0
    width = stroke_width(work)
    target = MNIST_STROKE * PEN_BOX / BOX
    radius = _half_up(abs(target - width) / (2.0 * (1.0 - MNIST_STROKE / BOX)))
    if width < THINNEST_STROKE * PEN_BOX / BOX and radius >= 1:
        work = dilate(work, radius)
    elif width > THICKEST_STROKE * PEN_BOX / BOX and radius >= 1:
        thinner = erode(work, radius)
        if thinner.any() and label_marks(thinner)[1] == label_marks(work)[1]:
            work = thinner
    return work[bounding_box(work)]


def preprocess_steps(image: ImageLike, *, recipe: str = "robust") -> dict[str, np.ndarray]:
    """Every step of :func:`to_mnist`, for pictures of the recipe.

    Each step's output, for pictures of the recipe (chapter 10 draws them side by side).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        As for :func:`to_mnist`.
    recipe : {"robust", "classic"}, default "robust"
        The course's recipe, or the classic one (see the module's description).

    Returns
    -------
    dict of str to numpy.ndarray
        In order, for the robust recipe: ``"gray"`` (step 1, 0..255), ``"ink"`` (steps 2 and 3),
        ``"thresholded"`` (step 4 and 5: 255 on the pixels above the threshold), ``"digit"``
        (step 6: the digit's marks, 255), ``"cropped"`` (step 7), ``"pen"`` (step 8, 255 on the
        strokes), ``"resized"`` (step 9, the longer side 20), ``"pasted"`` (the 28x28 frame
        before centring), ``"mnist"`` (steps 10 and 11: 28x28 uint8, what :func:`to_mnist`
        returns). All float64 except ``"mnist"``. The classic recipe has no ``"digit"`` nor
        ``"pen"``, and its ``"thresholded"`` keeps the ink's values.

    Raises
    ------
    NoDigitFound
        The image holds no digit (its ink never reaches 32 of 255), only a dot (fewer than
        :data:`MIN_INK_PIXELS` pixels), or (robust) two marks of about the same size.
    UnreadableImage
        A path that is missing or not an image.
    ValueError
        An unknown ``recipe``.

    See Also
    --------
    to_mnist : Only the result.

    Examples
    --------
    >>> canvas = np.full((100, 80), 255, dtype=np.uint8)
    >>> canvas[20:80, 35:45] = 0  # a black "1" on white
    >>> steps = preprocess_steps(canvas)
    >>> list(steps)
    ['gray', 'ink', 'thresholded', 'digit', 'cropped', 'pen', 'resized', 'pasted', 'mnist']
    >>> steps["resized"].shape
    (20, 3)
    """
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}: choose among {', '.join(RECIPES)}")
    gray = load_gray(image)
    if recipe == "classic":
        return _classic_steps(gray)
    ink = ink_on_paper(gray, polarity(gray))
    if float(ink.max()) < MIN_INK:
        raise NoDigitFound(
            "no digit found: the image is uniform (nothing stands out from its background)"
        )
    mask = digit_pixels(ink)
    digit = select_digit(mask, ink)
    cropped = digit[bounding_box(digit)]
    pen = with_mnist_stroke(cropped)
    resized = area_resize(pen * 255.0, scaled_size(*pen.shape, BOX))
    pasted, mnist = _centred(resized)
    return {
        "gray": gray,
        "ink": ink,
        "thresholded": mask * 255.0,
        "digit": digit * 255.0,
        "cropped": cropped * 255.0,
        "pen": pen * 255.0,
        "resized": resized,
        "pasted": pasted,
        "mnist": mnist,
    }


def _classic_steps(gray: np.ndarray) -> dict[str, np.ndarray]:
    """The classic recipe from the gray image (see the module's description)."""
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
    cropped = thresholded[bounding_box(thresholded > 0)]
    cropped = cropped * 255.0 / cropped.max()
    resized = area_resize(cropped, scaled_size(*cropped.shape, BOX))
    pasted, mnist = _centred(resized)
    return {
        "gray": gray,
        "ink": ink,
        "thresholded": thresholded,
        "cropped": cropped,
        "resized": resized,
        "pasted": pasted,
        "mnist": mnist,
    }


def _centred(resized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps 10 and 11: the digit pasted in the frame, then moved to centre its mass; rounded."""
    new_height, new_width = resized.shape
    top, left = (SIZE - new_height) // 2, (SIZE - new_width) // 2
    pasted = np.zeros((SIZE, SIZE), dtype=np.float64)
    pasted[top : top + new_height, left : left + new_width] = resized
    centre_row, centre_column = ndimage.center_of_mass(pasted)
    shift_rows = int(np.clip(_half_up(CENTRE - centre_row), -top, SIZE - new_height - top))
    shift_columns = int(np.clip(_half_up(CENTRE - centre_column), -left, SIZE - new_width - left))
    centred = np.zeros((SIZE, SIZE), dtype=np.float64)
    row, column = top + shift_rows, left + shift_columns
    centred[row : row + new_height, column : column + new_width] = resized
    return pasted, np.clip(round_half_up(centred), 0, 255).astype(np.uint8)


def to_mnist(image: ImageLike, *, recipe: str = "robust") -> np.ndarray:
    """An image of a digit as MNIST would have it: 28x28, white ink (255) on black (0).

    The recipe of the module's description, step by step as the book's draw-a-digit page
    runs it in JavaScript.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        A file path or a PIL image (turned upright by its EXIF orientation, an alpha channel
        composited over white), or a uint8 array (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA.
        Dark ink on light paper or light ink on a dark background: both work.
    recipe : {"robust", "classic"}, default "robust"
        The course's recipe, or the classic one (a global threshold, then MNIST's steps, for
        comparison).

    Returns
    -------
    numpy.ndarray
        28x28 uint8. ``to_mnist(image).reshape(1, -1)`` is one row of MNIST's ``data``.

    Raises
    ------
    NoDigitFound
        The image holds no single digit (a ``ValueError`` with a one-line message).
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
    return preprocess_steps(image, recipe=recipe)["mnist"]


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
