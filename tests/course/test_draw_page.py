"""Draw a digit: the book page and the notebook widget agree with Python, in headless Chromium.

The page's JavaScript re-implements ``to_mnist`` and the MLP's forward pass: for the same pixels,
its 28x28 image must equal Python's byte for byte, its probabilities Python's within 1e-9.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import BUILD, ROOT, make_book
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from test_jupyterlab import lab, wait_until_idle  # noqa: F401 (lab: a fixture)

from checks.authoring import draw_page
from checks.own_digit import NoDigitFound, sample_label, to_mnist
from checks.own_digit import sample_images as course_samples
from checks.own_digit.draw_model import (
    load_or_train_draw_model,
    model_description,
)
from checks.own_digit.widget import (
    FALLBACK,
    SCRIPT,
    DigitCanvas,
    draw_digit,
    image_from_list,
    rgba_from_bytes,
    widget_module,
)

SCREENSHOT = BUILD / "screenshots" / "draw_a_digit.png"
SAMPLE_FILES = course_samples()
SAMPLE_NAMES = [(sample_label(path), path.name) for path in SAMPLE_FILES]
DRAW_PAGE = Path(draw_page.PAGE).with_suffix(".html")


# --- Images to compare on: drawn, printed, photographed-like, of every polarity and shape.


def glyph(text: str, size: tuple[int, int], seed: int) -> Image.Image:
    """A digit in the default font, somewhere in an image, dark on light paper."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", size, int(rng.integers(180, 256)))
    font = ImageFont.load_default(size=int(min(size) * rng.uniform(0.3, 0.9)))
    where = (int(rng.integers(0, size[0] // 3)), int(rng.integers(0, size[1] // 4)))
    ImageDraw.Draw(image).text(where, text, fill=int(rng.integers(0, 80)), font=font)
    return image


def strokes(size: tuple[int, int], seed: int, width: int) -> Image.Image:
    """Random thick strokes, black on white."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    points = [tuple(int(v) for v in rng.integers(0, size)) for _ in range(rng.integers(2, 6))]
    draw.line(points, fill=0, width=width, joint="curve")
    return image


def sample_images() -> dict[str, np.ndarray]:
    """Uint8 arrays (H, W, 4) RGBA: what a canvas gives, and harder cases."""
    images = {}
    for seed in range(12):
        printed = glyph(str(seed % 10), (280, 280) if seed % 2 else (230, 170), seed)
        images[f"printed {seed}"] = np.asarray(printed.convert("RGBA"))
        blurred = printed.filter(ImageFilter.GaussianBlur(seed % 4 + 0.5))
        noisy = np.asarray(blurred, dtype=np.float64)
        noisy += np.random.default_rng(seed).normal(0, 12, noisy.shape)
        images[f"photo-like {seed}"] = np.asarray(
            Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGBA")
        )
        images[f"light on dark {seed}"] = np.asarray(
            Image.fromarray(255 - np.asarray(blurred)).convert("RGBA")
        )
        drawn = strokes((280, 280), seed, width=4 + 3 * (seed % 6))
        images[f"strokes {seed}"] = np.asarray(drawn.convert("RGBA"))
        see_through = np.zeros((120, 90, 4), dtype=np.uint8)  # transparent paper, soft ink
        mask = np.asarray(strokes((90, 120), seed + 100, width=6).filter(ImageFilter.BLUR))
        see_through[..., 3] = 255 - mask
        see_through[..., 2] = 90
        images[f"alpha {seed}"] = see_through
    tiny = np.full((40, 40, 4), 255, dtype=np.uint8)  # a 3x5 digit: upscaled, not shrunk
    tiny[10:15, 20:23, :3] = 0
    images["tiny"] = tiny
    images["blank"] = np.full((50, 60, 4), 255, dtype=np.uint8)
    dot = np.full((50, 50, 4), 255, dtype=np.uint8)  # 4 pixels: a dot, below MIN_INK_PIXELS
    dot[24:26, 24:26, :3] = 0
    images["dot"] = dot
    stroke = np.full((50, 50, 4), 255, dtype=np.uint8)  # 5 pixels: MIN_INK_PIXELS, a digit
    stroke[22:27, 25, :3] = 0
    images["5-pixel stroke"] = stroke
    return images


def hard_images() -> dict[str, np.ndarray]:
    """RGBA arrays of what real pictures throw at the recipe (test_own_digit_preprocess.py)."""
    from test_own_digit_preprocess import FIVE, FOUR, TWO, written

    pages = {
        "mid-gray paper": written(FOUR, paper=115, ink=55),
        "faint pencil": written(TWO, paper=200, ink=160, pen=4),
        "thin pen": written(TWO, size=(500, 400), box=(80, 100, 330), pen=2),
        "thick marker": written(TWO, pen=50),
        "cut by the frame": written(FOUR, box=(100, 70, 220)),
        "two pieces": written(FIVE, pen=10),
        "two digits": np.hstack([written(TWO, size=(300, 200)), written(FOUR, size=(300, 200))]),
    }
    shadow = written(FIVE, paper=210, ink=60, pen=8).astype(np.int16)
    shadow[:, :90] -= 70
    pages["shadow"] = np.clip(shadow, 0, 255).astype(np.uint8)
    ruled = written(FOUR, pen=6, paper=235, ink=30)
    ruled[232:235, :] = 40
    pages["ruled line"] = ruled
    table = np.full((400, 340), 45, dtype=np.uint8)
    table[50:350, 50:290] = written(TWO, pen=8, paper=215, ink=40)
    pages["sheet on a dark table"] = table
    crossed = written(TWO, pen=8, paper=230, ink=30)
    for row in range(20, 300, 30):
        crossed[row : row + 2, :] = 90
    pages["ruled lines across the digit"] = crossed
    pencil = written(FOUR, pen=6, paper=235, ink=180)
    pencil[232:235, :] = 60
    pages["pencil on dark ruled paper"] = pencil
    edge = written(TWO, pen=8, paper=220, ink=60).astype(np.int16)
    edge[:, :120] -= 60
    pages["sharp shadow edge"] = np.clip(edge, 0, 255).astype(np.uint8)
    grid = written(TWO, pen=8, paper=230, ink=40)
    grid[::20, :] = np.minimum(grid[::20, :], 185)
    grid[:, ::20] = np.minimum(grid[:, ::20], 185)
    pages["graph paper"] = grid
    tight = np.full((100, 30), 250, dtype=np.uint8)
    tight[:, 13:17] = 20
    pages["tight 1"] = tight
    return {name: np.asarray(Image.fromarray(page).convert("RGBA")) for name, page in pages.items()}


def python_digit(rgba: np.ndarray) -> list[int] | None:
    try:
        return to_mnist(rgba).ravel().tolist()
    except NoDigitFound:
        return None


@pytest.fixture(scope="module")
def script_page(browser):
    """A blank page with the draw script loaded, nothing else."""
    page = browser.new_page()
    page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
    yield page
    page.close()


JS_TO_MNIST = """([data, width, height]) => {
  const binary = atob(data);
  const rgba = new Uint8ClampedArray(binary.length);
  for (let i = 0; i < binary.length; i++) rgba[i] = binary.charCodeAt(i);
  const result = DrawDigit.toMnist(rgba, width, height);
  return result.image ? Array.from(result.image) : null;
}"""


def differing_images(page, images: dict[str, np.ndarray]) -> list[str]:
    """The names of the images whose 28x28 (or refusal) differ between JavaScript and Python."""
    differing = []
    for name, rgba in images.items():
        height, width = rgba.shape[:2]
        encoded = base64.b64encode(np.ascontiguousarray(rgba).tobytes()).decode("ascii")
        in_javascript = page.evaluate(JS_TO_MNIST, [encoded, width, height])
        if in_javascript != python_digit(rgba):
            differing.append(name)
    return differing


def test_the_javascript_preprocessing_equals_to_mnist_byte_for_byte(script_page):
    images = {**sample_images(), **hard_images()}
    assert python_digit(images["blank"]) is None  # "no digit" is compared too
    assert python_digit(images["tiny"]) is not None
    assert python_digit(images["dot"]) is None and python_digit(images["5-pixel stroke"])
    assert python_digit(images["two digits"]) is None  # "no single digit" too
    differing = differing_images(script_page, images)
    assert not differing, f"JavaScript and Python differ on {differing} of {len(images)} images"


@pytest.mark.slow
def test_the_javascript_preprocessing_equals_to_mnist_on_real_digits(script_page, real_digits):
    from PIL import ImageOps

    images = {}
    for path, _, _ in real_digits:
        with Image.open(path) as opened:
            images[path.name] = np.asarray(ImageOps.exif_transpose(opened).convert("RGBA"))
    differing = differing_images(script_page, images)
    assert not differing, f"JavaScript and Python differ on {differing} of {len(images)} images"


def small_mlp():
    """A quickly trained MLP on random data: the forward pass is compared, not the accuracy."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (300, 784)) / 255.0
    y = rng.integers(0, 10, 300).astype(str)
    return MLPClassifier(hidden_layer_sizes=(30,), max_iter=30, random_state=0).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_javascript_forward_pass_equals_predict_proba(script_page):
    model = small_mlp()
    images = np.random.default_rng(1).integers(0, 256, (20, 784))
    in_javascript = script_page.evaluate(
        """([described, images]) => {
          const model = DrawDigit.loadModel(described);
          return images.map((image) => Array.from(DrawDigit.predictProba(model, image)));
        }""",
        [model_description(model), images.tolist()],
    )
    expected = model.predict_proba(images / 255.0)
    np.testing.assert_allclose(in_javascript, expected, rtol=0, atol=1e-12)
    assert np.array_equal(np.argmax(in_javascript, axis=1), np.argmax(expected, axis=1))


def test_only_relu_softmax_models_are_described():
    model = small_mlp()
    model.activation = "tanh"
    with pytest.raises(ValueError, match="ReLU"):
        model_description(model)


# --- The page in the built book.

# Strokes in canvas pixels (280x280): a 7, a 1, a 0 (an ellipse).
DIGITS = {
    "7": [[(70, 60), (210, 60), (120, 230)], [(110, 145), (180, 145)]],
    "1": [[(120, 90), (150, 50), (150, 240)]],
    "0": [[(140 + 60 * np.sin(t), 140 - 95 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]],
}


def draw(page, strokes_: list[list[tuple[float, float]]]) -> None:
    """Draw with the mouse on the page's canvas, one stroke after another."""
    page.click(".dd-clear")
    box = page.locator(".dd-board").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes_:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=4)
        page.mouse.up()


# In the page: bytes to base64, a much smaller answer for Playwright than a list of numbers.
BASE64 = """(bytes) => {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}"""


def page_state(page) -> dict:
    return page.evaluate(
        f"""() => {{
          const base64 = {BASE64};
          const s = window.drawDigitState;
          return {{
            rgba: base64(s.rgba),
            width: s.width, height: s.height,
            image: s.image28 ? Array.from(s.image28) : null,
            probabilities: s.probabilities ? Array.from(s.probabilities) : null,
            predicted: s.predicted,
          }};
        }}"""
    )


@pytest.fixture(scope="module")
def draw_book(tmp_path_factory) -> Path:
    """A small book with the course's configuration: the draw page and one other page."""
    book = tmp_path_factory.mktemp("draw-book")
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    shutil.copy(ROOT / draw_page.PAGE, book / draw_page.PAGE)
    (book / "book" / "intro.md").write_text("# A book with a draw page\n\nHello.\n")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/draw_a_digit\n"
    )
    completed = make_book(book)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def offline_page(browser, draw_book):
    """The draw page from file://, the browser offline: any other request is refused."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    requested: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (requested.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    # Jupyter Book 1's theme declares THEBE_JS_URL twice on every page: not this page's error.
    page.on(
        "pageerror",
        lambda error: None if "THEBE_JS_URL" in str(error) else errors.append(str(error)),
    )
    page.goto((draw_book / DRAW_PAGE).as_uri())
    page.wait_for_load_state("load")
    yield page, requested, errors
    context.close()


def test_the_draw_page_predicts_as_python_does(offline_page):
    page, _, errors = offline_page
    assert not errors, errors
    draw_model = load_or_train_draw_model()  # the model the build wrote (from the cache)
    predicted = {}
    for digit, digit_strokes in DIGITS.items():
        draw(page, digit_strokes)
        state = page_state(page)
        rgba = np.frombuffer(base64.b64decode(state["rgba"]), dtype=np.uint8)
        rgba = rgba.reshape(state["height"], state["width"], 4)
        assert rgba[..., :3].min() < 64, "nothing was drawn"
        image = to_mnist(rgba)
        assert state["image"] == image.ravel().tolist(), f"the 28x28 differ for the {digit}"
        expected = draw_model.estimator.predict_proba(image.reshape(1, 784) / 255.0)[0]
        np.testing.assert_allclose(state["probabilities"], expected, rtol=0, atol=1e-9)
        assert state["predicted"] == int(draw_model.estimator.classes_[np.argmax(expected)])
        predicted[digit] = state["predicted"]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert page.locator(".dd-best").count() == 1
    print(f"predicted {predicted}; screenshot {SCREENSHOT}")


def test_the_draw_page_works_offline_and_loads_only_local_files(offline_page):
    page, requested, errors = offline_page
    assert page.evaluate("typeof window.MNIST_DRAW_MODEL") == "object"
    assert page.locator(".dd-bars .dd-row").count() == 10
    assert not errors, errors
    assert not requested, f"the page asked the network for {requested}"


def test_clear_empties_the_image(offline_page):
    page, _, _ = offline_page
    draw(page, DIGITS["1"])
    page.click(".dd-clear")
    assert page.evaluate("window.drawDigitState.image28") is None
    assert page.locator(".dd-best").count() == 0


def wait_for_status(page, previous: str) -> str:
    """The live region's text once it has changed from ``previous``."""
    status = page.get_by_role("status")
    page.wait_for_function(
        "([old]) => document.querySelector('.dd-answer').textContent !== old", arg=[previous]
    )
    return status.inner_text()


def test_the_page_works_from_the_keyboard_alone(offline_page):
    page, _, errors = offline_page
    page.get_by_role("button", name="Clear").focus()
    page.keyboard.press("Enter")
    focused = []
    for _ in range(11):  # Tab: the ten sample buttons, then the file field
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate(
                "document.activeElement.getAttribute('aria-label') || "
                "document.activeElement.className"
            )
        )
    assert focused[:10] == [f"Sample digit {d}, {n}" for d, n in SAMPLE_NAMES]
    assert focused[10] == "dd-file"
    for _ in range(3):  # back to the 7
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "7"
    before = page.get_by_role("status").inner_text()
    page.keyboard.press("Enter")
    announced = wait_for_status(page, before)
    state = page_state(page)
    rgba = np.frombuffer(base64.b64decode(state["rgba"]), dtype=np.uint8)
    rgba = rgba.reshape(state["height"], state["width"], 4)
    assert state["image"] == to_mnist(rgba).ravel().tolist()  # the photo, as Python reads it
    assert (
        announced
        == f"Prediction: {state['predicted']} ({max(state['probabilities']):.0%})".replace(
            "%", " %"
        )
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#draw-digit").screenshot(
        path=str(SCREENSHOT.with_name("draw_a_digit_keyboard.png"))
    )
    assert not errors, errors


def test_the_page_is_labelled_for_screen_readers(offline_page):
    page, _, _ = offline_page
    status = page.get_by_role("status")
    assert status.get_attribute("aria-live") == "polite"
    assert page.get_by_role("img", name="Drawing area for a digit").count() == 1
    assert page.get_by_role("img", name="The 28 by 28 image the model receives").count() == 1
    assert page.get_by_label("Read an image file").get_attribute("type") == "file"
    assert page.get_by_role("group", name="Load a sample digit").count() == 1
    tree = page.locator("#draw-digit").aria_snapshot()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.with_name("draw_a_digit_aria.txt").write_text(tree, encoding="utf-8")
    assert 'img "Drawing area for a digit' in tree and "status" in tree


def test_an_image_file_is_read_upright_as_python_reads_it(offline_page, tmp_path):
    page, _, errors = offline_page
    sideways = next(p for p in SAMPLE_FILES if Image.open(p).getexif().get(0x0112, 1) != 1)
    before = page.get_by_role("status").inner_text()
    page.get_by_label("Read an image file").set_input_files(str(sideways))
    announced = wait_for_status(page, before)
    state = page_state(page)
    rgba = np.frombuffer(base64.b64decode(state["rgba"]), dtype=np.uint8)
    rgba = rgba.reshape(state["height"], state["width"], 4)
    assert state["image"] == to_mnist(rgba).ravel().tolist()
    # Turned upright as Python turns it (the browser decodes JPEG a little differently).
    seen = np.array(state["image"], dtype=float)
    assert np.corrcoef(seen, to_mnist(sideways).ravel().astype(float))[0, 1] > 0.9
    assert announced.startswith("Prediction: ")
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    page.get_by_label("Read an image file").set_input_files(str(notes))
    assert wait_for_status(page, announced) == "Cannot read notes.png as an image"
    assert not errors, errors


def test_a_picture_without_a_single_digit_is_announced_in_one_line(offline_page, tmp_path):
    page, _, _ = offline_page
    two = tmp_path / "two.png"
    Image.fromarray(hard_images()["two digits"]).save(two)
    before = page.get_by_role("status").inner_text()
    page.get_by_label("Read an image file").set_input_files(str(two))
    announced = wait_for_status(page, before)
    assert announced.startswith("No single digit found: 2 marks")
    assert page.evaluate("window.drawDigitState.image28") is None


def scripts_of(html: Path) -> list[str]:
    """Which of the draw page's three scripts a page loads (by its <script src=...> tags)."""
    sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html.read_text(encoding="utf-8"))
    names = [source.split("?")[0].rsplit("/", 1)[-1] for source in sources]
    return [
        name for name in (draw_page.MODEL, draw_page.SAMPLES, draw_page.SCRIPT) if name in names
    ]


def test_only_the_draw_page_loads_the_model(draw_book):
    pages = {page.relative_to(draw_book): scripts_of(page) for page in draw_book.rglob("*.html")}
    assert pages[DRAW_PAGE] == [draw_page.MODEL, draw_page.SAMPLES, draw_page.SCRIPT]
    assert {page for page, found in pages.items() if found} == {DRAW_PAGE}
    assert not list((draw_book / "_static").rglob(draw_page.MODEL))


def test_no_page_of_the_course_book_but_the_draw_page_loads_the_model(built_book):
    loading = {
        str(page.relative_to(built_book)) for page in built_book.rglob("*.html") if scripts_of(page)
    }
    assert loading == {str(DRAW_PAGE)}
    assert (built_book / draw_page.ASSET_FOLDER / draw_page.MODEL).is_file()


def test_the_build_refuses_a_config_without_the_asset_folder(tmp_path):
    from types import SimpleNamespace

    from sphinx.errors import ExtensionError

    app = SimpleNamespace(confdir=str(tmp_path))
    with pytest.raises(ExtensionError, match="html_extra_path"):
        draw_page._prepare(app, SimpleNamespace(html_extra_path=[]))
    draw_page._prepare(app, SimpleNamespace(html_extra_path=[draw_page.EXTRA_FOLDER]))
    assert draw_page.asset_folder(tmp_path).is_dir()


# --- The notebook widget.


def test_the_widget_runs_the_shared_script():
    module = widget_module()
    assert module.startswith(SCRIPT.read_text(encoding="utf-8"))
    assert "export default" in module
    assert DigitCanvas._esm == module


def test_the_widget_hands_python_the_28x28_and_the_canvas():
    canvas = DigitCanvas(size=40)
    assert canvas.digit is None and canvas.canvas_rgba is None
    values = np.arange(784) % 256
    canvas.image = values.tolist()
    assert canvas.digit.dtype == np.uint8
    assert np.array_equal(canvas.digit, values.reshape(28, 28))
    pixels = np.random.default_rng(0).integers(0, 256, (40, 40, 4), dtype=np.uint8)
    canvas.set_state({"rgba": memoryview(pixels.tobytes())})  # as ipywidgets hands it over
    assert np.array_equal(canvas.canvas_rgba, pixels)


@pytest.mark.parametrize("bad", [[1, 2, 3], [300] * 784, [-1] * 784])
def test_a_wrong_image_from_the_widget_is_refused(bad):
    with pytest.raises(ValueError, match="784 values"):
        image_from_list(bad)


def test_wrong_canvas_bytes_are_refused():
    with pytest.raises(ValueError, match="bytes of RGBA"):
        rgba_from_bytes(b"\0" * 10, 40)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_widget_carries_a_given_model():
    model = small_mlp()
    canvas = DigitCanvas(model=model)
    assert canvas.weights == json.loads(json.dumps(model_description(model)))


def test_outside_a_kernel_draw_digit_says_how_to_use_a_file(capsys):
    assert draw_digit() is None
    assert capsys.readouterr().out.strip() == FALLBACK


def test_in_a_kernel_without_anywidget_draw_digit_says_what_to_install(capsys, monkeypatch):
    from checks.own_digit import widget

    monkeypatch.setattr(widget, "in_a_kernel", lambda: True)
    monkeypatch.setattr(widget, "anywidget", None)
    assert draw_digit() is None
    assert capsys.readouterr().out.strip() == widget.NO_ANYWIDGET


def test_the_widget_module_draws_and_sends_the_28x28_to_python(browser):
    """The widget's ES module, rendered with a stand-in for the widget model, as anywidget does."""
    page = browser.new_page(viewport={"width": 900, "height": 500})
    page.set_content("<div id='cell'></div>")
    page.evaluate(
        """async (source) => {
          const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
          const widget = (await import(url)).default;
          const values = { size: 280, weights: {}, image: [], rgba: null };
          window.sent = [];
          const model = {
            get: (name) => values[name],
            set: (name, value) => { values[name] = value; },
            save_changes: () => window.sent.push({ image: values.image, rgba: values.rgba }),
          };
          widget.render({ model, el: document.getElementById("cell") });
        }""",
        widget_module(),
    )
    draw(page, DIGITS["7"])
    sent = page.evaluate(
        f"""() => {{
          const last = window.sent[window.sent.length - 1];
          const base64 = {BASE64};
          return {{
            count: window.sent.length,
            image: last.image,
            rgba: base64(new Uint8Array(last.rgba.buffer)),
          }};
        }}"""
    )
    page.close()
    rgba = np.frombuffer(base64.b64decode(sent["rgba"]), dtype=np.uint8).reshape(280, 280, 4)
    assert sent["count"] >= 3  # on mounting, on Clear, after the stroke
    assert sent["image"] == to_mnist(rgba).ravel().tolist()


@pytest.mark.slow
def test_the_widget_in_jupyterlab_gives_python_what_to_mnist_gives(lab, browser):  # noqa: F811
    """In a real JupyterLab: draw a 7 in draw_digit()'s widget, read it back in the kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from checks.own_digit.widget import draw_digit\ncanvas = draw_digit()\ncanvas"
        ),
        nbformat.v4.new_code_cell(
            "from checks.own_digit import to_mnist\n"
            "same = bool((to_mnist(canvas.canvas_rgba) == canvas.digit).all())\n"
            "print('widget:', same, int(canvas.digit.sum()))"
        ),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, lab.root / "draw.ipynb")
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.goto(f"{lab.url}/lab/tree/draw.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    time.sleep(2)
    if page.locator(".jp-Dialog").count():  # JupyterLab may still ask which kernel to start
        page.locator(".jp-Dialog .jp-mod-accept").click()
    wait_until_idle(page, 90)
    cells = page.locator(".jp-CodeCell")
    cells.nth(0).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_selector(".jp-OutputArea .dd-board", timeout=120_000)
    finally:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT.with_name("draw_widget_jupyterlab.png")))
    draw(page, DIGITS["7"])
    time.sleep(1)  # the widget's state reaches the kernel
    cells.nth(1).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    output = cells.nth(1).locator(".jp-OutputArea-output").first
    output.filter(has_text="widget:").wait_for(timeout=60_000)
    text = output.inner_text()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT.with_name("draw_widget_jupyterlab.png")))
    page.close()
    assert text.startswith("widget: True"), text
    assert int(text.split()[-1]) > 0
