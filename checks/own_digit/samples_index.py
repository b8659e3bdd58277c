"""The sample digit images shipped with the course (``checks/own_digit/samples/``, CC0).

Ten images, one per digit, made by ``benchmarks/make_digit_samples.py``: five drawn (PNG, black
strokes on white), five photo-like (JPEG, pen on paper, two stored sideways with an EXIF
orientation tag). A file's name starts with the digit it shows.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample_images() -> list[Path]:
    """The paths of the shipped sample images, in the order of their digits.

    Installed as package data, so they are found wherever the course package is.

    Returns
    -------
    list of pathlib.Path
        ``0_drawn.png``, ``1_photo.jpg``... ``9_drawn.png``.

    See Also
    --------
    sample_label : The digit a sample shows.

    Examples
    --------
    >>> [path.name for path in sample_images()][:2]
    ['0_drawn.png', '1_photo.jpg']
    """
    return sorted(path for path in SAMPLES.iterdir() if path.suffix in (".png", ".jpg"))


def sample_label(path: str | Path) -> int:
    """The digit a sample image shows, from its name.

    The first character of a sample's file name is its digit.

    Parameters
    ----------
    path : str or pathlib.Path
        One of :func:`sample_images`.

    Returns
    -------
    int
        The digit, 0..9.

    See Also
    --------
    sample_images : The samples.

    Examples
    --------
    >>> sample_label("samples/7_photo.jpg")
    7
    """
    return int(Path(path).name[0])


def sample_data_urls() -> list[dict[str, object]]:
    """The samples as the draw page loads them: upright, in ``data:`` addresses.

    A page opened from ``file://`` may not read the pixels of an image file beside it (the
    browser taints the canvas), but it may read those of a ``data:`` address. Each sample is turned
    upright by its EXIF orientation and saved again without it (PNG for the drawings, JPEG of
    quality 92 for the photos).

    Returns
    -------
    list of dict
        ``name`` (the file's), ``label`` (its digit) and ``src`` (the ``data:`` address), in the
        order of :func:`sample_images`.

    Examples
    --------
    >>> sample_data_urls()[0]["src"][:22]
    'data:image/png;base64,'
    """
    import base64
    import io

    from PIL import Image, ImageOps

    found = []
    for path in sample_images():
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        buffer = io.BytesIO()
        kind = "png" if path.suffix == ".png" else "jpeg"
        upright.save(buffer, format=kind.upper(), **({"quality": 92} if kind == "jpeg" else {}))
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        found.append(
            {
                "name": path.name,
                "label": sample_label(path),
                "src": f"data:image/{kind};base64,{encoded}",
            }
        )
    return found
