"""The image operations of the recipe's cleaning steps: exact, so that JavaScript gives the same.

:func:`checks.own_digit.preprocess.to_mnist` separates the digit from its paper with these, and the
book's draw page runs the same operations in ``static/draw_digit.js``. Each is defined on integers
or on booleans (sums of 3x3 pixels, maxima and minima over windows, connected pixels, a round pen),
so that both languages compute the very same values, with no rounding to agree on.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: 8-connectivity: pixels touching by a side or a corner belong to the same mark.
EIGHT = np.ones((3, 3), dtype=bool)


def box_sum3(values: np.ndarray) -> np.ndarray:
    """The sum of each pixel's 3x3 neighbourhood, the image's edge pixels repeated outside it.

    Nine times a 3x3 mean: a light blur that keeps integers integers.

    Parameters
    ----------
    values : numpy.ndarray
        A 2-D image.

    Returns
    -------
    numpy.ndarray
        The sums, float64, the shape of ``values``.

    Examples
    --------
    >>> box_sum3(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[18.0, 21.0], [24.0, 27.0]]
    """
    padded = np.pad(np.asarray(values, dtype=np.float64), 1, mode="edge")
    height, width = values.shape
    total = np.zeros((height, width), dtype=np.float64)
    for row in range(3):
        for column in range(3):
            total += padded[row : row + height, column : column + width]
    return total


def closing(values: np.ndarray, size: int) -> np.ndarray:
    """Grey closing by a ``size`` x ``size`` square: the maximum over each window, then the minimum.

    Dark marks narrower than ``size`` (pen strokes) are filled with the surrounding paper; what is
    wider (a shadow, light falling off across the page) stays. Each window is centred on its pixel
    and cut at the image's edges. Rows and columns are filtered one after the other (a square's
    maximum is the maximum of the rows' maxima).

    Parameters
    ----------
    values : numpy.ndarray
        A 2-D image.
    size : int
        The window's side, odd.

    Returns
    -------
    numpy.ndarray
        The closed image, float64.

    Examples
    --------
    >>> closing(np.array([[9.0, 9.0, 0.0, 9.0, 9.0]]), 3).tolist()
    [[9.0, 9.0, 9.0, 9.0, 9.0]]
    """
    if size % 2 != 1:
        raise ValueError(f"the window's side must be odd, not {size}")
    values = np.asarray(values, dtype=np.float64)
    # mode="nearest" repeats the edge pixel, which is already in the window: the window is cut.
    maximum = ndimage.maximum_filter1d(values, size, axis=0, mode="nearest")
    maximum = ndimage.maximum_filter1d(maximum, size, axis=1, mode="nearest")
    minimum = ndimage.minimum_filter1d(maximum, size, axis=0, mode="nearest")
    return ndimage.minimum_filter1d(minimum, size, axis=1, mode="nearest")


def label_marks(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Number the marks of a mask: its groups of 8-connected pixels, in reading order.

    Mark 1 holds the first pixel met row by row, left to right; mark 2 the first pixel of no
    earlier mark; and so on.

    Parameters
    ----------
    mask : numpy.ndarray
        A 2-D boolean image.

    Returns
    -------
    tuple of (numpy.ndarray, int)
        Each pixel's mark (0 off the mask), int32, and the number of marks.

    Examples
    --------
    >>> labels, count = label_marks(np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0]], dtype=bool))
    >>> labels.tolist(), count
    ([[1, 0, 2], [0, 0, 2], [3, 0, 0]], 3)
    """
    labels, count = ndimage.label(mask, structure=EIGHT)
    return labels.astype(np.int32), int(count)


def disk(radius: int) -> np.ndarray:
    """A round pen: the offsets ``(dy, dx)`` with ``dy**2 + dx**2 <= radius**2``.

    Parameters
    ----------
    radius : int
        In pixels, 0 or more.

    Returns
    -------
    numpy.ndarray
        A boolean square of side ``2*radius + 1``.

    Examples
    --------
    >>> disk(1).astype(int).tolist()
    [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    """
    offsets = np.arange(-radius, radius + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Retrace a mask with a round pen of ``radius``: every pixel within it of the mask is set.

    The image grows by ``radius`` on every side, so that nothing is cut.

    Parameters
    ----------
    mask : numpy.ndarray
        A 2-D boolean image.
    radius : int
        The pen's radius, 1 or more.

    Returns
    -------
    numpy.ndarray
        Boolean, ``2*radius`` rows and columns larger.

    Examples
    --------
    >>> dilate(np.array([[True]]), 1).astype(int).tolist()
    [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    """
    height, width = mask.shape
    grown = np.zeros((height + 2 * radius, width + 2 * radius), dtype=bool)
    pen = disk(radius)
    for dy, dx in zip(*np.nonzero(pen), strict=True):
        grown[dy : dy + height, dx : dx + width] |= mask
    return grown


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Keep the pixels whose whole round neighbourhood of ``radius`` is in the mask.

    Outside the image counts as off the mask.

    Parameters
    ----------
    mask : numpy.ndarray
        A 2-D boolean image.
    radius : int
        1 or more.

    Returns
    -------
    numpy.ndarray
        Boolean, the shape of ``mask``.

    Examples
    --------
    >>> erode(np.ones((3, 3), dtype=bool), 1).astype(int).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    height, width = mask.shape
    padded = np.pad(mask, radius)
    kept = np.ones((height, width), dtype=bool)
    for dy, dx in zip(*np.nonzero(disk(radius)), strict=True):
        kept &= padded[dy : dy + height, dx : dx + width]
    return kept


def stroke_width(mask: np.ndarray) -> float:
    """The mean width of a mask's strokes: twice its area over its perimeter.

    A stroke of length ``L`` and width ``w`` has an area of about ``L*w`` and a perimeter of about
    ``2*L``. The perimeter counts the sides between a pixel of the mask and one off it (outside the
    image is off).

    Parameters
    ----------
    mask : numpy.ndarray
        A 2-D boolean image.

    Returns
    -------
    float
        In pixels (0 for an empty mask).

    Examples
    --------
    >>> bar = np.zeros((10, 30), dtype=bool)
    >>> bar[4:7, 2:28] = True  # 26 long, 3 wide
    >>> round(stroke_width(bar), 2)
    2.69
    """
    area = int(np.count_nonzero(mask))
    padded = np.pad(mask, 1)
    perimeter = int(np.count_nonzero(padded[1:, :] != padded[:-1, :])) + int(
        np.count_nonzero(padded[:, 1:] != padded[:, :-1])
    )
    return 2.0 * area / perimeter if perimeter else 0.0
