/* Draw a digit: the canvas, MNIST-style preprocessing and the MLP's forward pass, in the browser.
 *
 * One source for the book's "Draw a digit" page (a classic <script>, so that it loads from
 * file://) and the notebook's DigitCanvas widget (checks/own_digit/widget.py appends an ES-module
 * `export` to this text). It sets `DrawDigit` on the global object:
 *
 *   DrawDigit.toMnist(rgba, width, height)  -> {image: Uint8Array(784)} or {image: null, reason}
 *   DrawDigit.loadModel(window.MNIST_DRAW_MODEL) -> a model for predictProba
 *   DrawDigit.predictProba(model, image)    -> Float64Array(10)
 *   DrawDigit.mount(element, {model, onChange}) -> the canvas, the 28x28 preview and the bars
 *
 * toMnist is a port of checks/own_digit/preprocess.py, step for step and in the same order of
 * floating-point operations, so that both give the same 28x28 bytes (tests/test_draw_page.py
 * compares them in Chromium). Every rounding is floor(x + 0.5).
 */
(function (root) {
  "use strict";

  var SIZE = 28; // MNIST's frame
  var BOX = 20; // the longer side of the digit in the frame
  var CENTRE = 14.0; // where the centre of mass goes (scipy.ndimage convention: row, column)
  var BORDER_FRACTION = 0.05; // the border whose median is the background
  var MIN_INK = 32; // below this maximum ink there is no digit
  var MIN_INK_PIXELS = 5; // fewer pixels above the threshold are a dot, not a digit

  function halfUp(x) {
    return Math.floor(x + 0.5);
  }

  // Step 1: RGBA (row-major, 4 bytes a pixel) composited over white in integers, then PIL's "L".
  function loadGray(rgba, width, height) {
    var gray = new Float64Array(width * height);
    for (var p = 0; p < width * height; p++) {
      var a = rgba[4 * p + 3];
      var rgb = [0, 0, 0];
      for (var c = 0; c < 3; c++) {
        rgb[c] = Math.floor((rgba[4 * p + c] * a + 255 * (255 - a) + 127) / 255);
      }
      // (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, exact: the sum stays below 2**31.
      gray[p] = (rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16;
    }
    return gray;
  }

  // numpy's median: the middle value, or the mean of the two middle values.
  function median(values) {
    var sorted = Float64Array.from(values).sort();
    var n = sorted.length;
    if (n % 2 === 1) return sorted[(n - 1) / 2];
    return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  function borderMedian(values, height, width) {
    var b = Math.max(1, halfUp(BORDER_FRACTION * Math.min(height, width)));
    var border = [];
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        var inside = r >= b && r < height - b && c >= b && c < width - b;
        if (!inside) border.push(values[r * width + c]);
      }
    }
    return median(border);
  }

  // Step 2: the ink, 0 on the background, whichever the paper's polarity.
  function inkOf(gray, height, width) {
    var light = borderMedian(gray, height, width) > 127;
    var ink = new Float64Array(gray.length);
    for (var p = 0; p < gray.length; p++) ink[p] = light ? 255.0 - gray[p] : gray[p];
    var background = borderMedian(ink, height, width);
    for (var q = 0; q < ink.length; q++) ink[q] = Math.max(ink[q] - background, 0.0);
    return ink;
  }

  // Step 3: Otsu's threshold on the 256-bin histogram of floor(ink + 0.5); first maximum wins.
  function otsuThreshold(ink) {
    var histogram = new Float64Array(256);
    for (var p = 0; p < ink.length; p++) histogram[Math.min(255, halfUp(ink[p]))] += 1;
    var below = new Float64Array(256);
    var sumBelow = new Float64Array(256);
    var w = 0;
    var s = 0;
    for (var i = 0; i < 256; i++) {
      w += histogram[i];
      s += i * histogram[i];
      below[i] = w;
      sumBelow[i] = s;
    }
    var total = below[255];
    var totalSum = sumBelow[255];
    var best = 0;
    var bestValue = -Infinity;
    for (var t = 0; t < 256; t++) {
      var w0 = below[t];
      var w1 = total - w0;
      var value = 0.0;
      if (w0 !== 0 && w1 !== 0) {
        var d = sumBelow[t] / w0 - (totalSum - sumBelow[t]) / w1;
        value = w0 * w1 * (d * d);
      }
      if (value > bestValue) {
        bestValue = value;
        best = t;
      }
    }
    return best;
  }

  // Step 5: one axis by exact area averaging. `values` is rows x columns; axis 0 resizes rows.
  function areaResizeAxis(values, rows, columns, size, axis) {
    var length = axis === 0 ? rows : columns;
    var other = axis === 0 ? columns : rows;
    var scale = length / size;
    var outRows = axis === 0 ? size : rows;
    var outColumns = axis === 0 ? columns : size;
    var out = new Float64Array(outRows * outColumns);
    var accumulated = new Float64Array(other);
    for (var i = 0; i < size; i++) {
      var low = (i * length) / size;
      var high = ((i + 1) * length) / size;
      accumulated.fill(0.0);
      var last = Math.min(length, Math.ceil(high));
      for (var j = Math.floor(low); j < last; j++) {
        var overlap = Math.min(j + 1.0, high) - Math.max(j, low);
        if (overlap > 0) {
          for (var k = 0; k < other; k++) {
            var x = axis === 0 ? values[j * columns + k] : values[k * columns + j];
            accumulated[k] = accumulated[k] + overlap * x;
          }
        }
      }
      for (var m = 0; m < other; m++) {
        if (axis === 0) out[i * outColumns + m] = accumulated[m] / scale;
        else out[m * outColumns + i] = accumulated[m] / scale;
      }
    }
    return out;
  }

  // numpy's pairwise summation of a float64 array (what ndarray.sum() does on contiguous data),
  // so that the centre of mass is the same double as scipy.ndimage.center_of_mass's.
  function pairwiseSum(a, start, n) {
    var i;
    var res;
    if (n < 8) {
      res = 0.0;
      for (i = 0; i < n; i++) res += a[start + i];
      return res;
    }
    if (n <= 128) {
      var r = [];
      for (i = 0; i < 8; i++) r.push(a[start + i]);
      for (i = 8; i < n - (n % 8); i += 8) {
        for (var j = 0; j < 8; j++) r[j] += a[start + i + j];
      }
      res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[start + i];
      return res;
    }
    var half = Math.floor(n / 2);
    half -= half % 8;
    return pairwiseSum(a, start, half) + pairwiseSum(a, start + half, n - half);
  }

  function sum(a) {
    return 0.0 + pairwiseSum(a, 0, a.length);
  }

  // scipy.ndimage.center_of_mass of a SIZE x SIZE image: (row, column).
  function centreOfMass(image) {
    var byRow = new Float64Array(image.length);
    var byColumn = new Float64Array(image.length);
    for (var p = 0; p < image.length; p++) {
      byRow[p] = image[p] * Math.floor(p / SIZE);
      byColumn[p] = image[p] * (p % SIZE);
    }
    var mass = sum(image);
    return [sum(byRow) / mass, sum(byColumn) / mass];
  }

  function clip(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  /* The 28x28 image MNIST would have: checks.own_digit.to_mnist for an RGBA canvas.
   * Returns {image: Uint8Array(784), centre: [row, column] before the shift, threshold}, or
   * {image: null, reason} when there is no digit. */
  function toMnist(rgba, width, height) {
    var gray = loadGray(rgba, width, height);
    var ink = inkOf(gray, height, width);
    var peak = 0.0;
    for (var p = 0; p < ink.length; p++) peak = Math.max(peak, ink[p]);
    if (peak < MIN_INK) return { image: null, reason: "no digit found" };
    var threshold = otsuThreshold(ink);
    var top = height;
    var bottom = -1;
    var left = width;
    var right = -1;
    var count = 0;
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        var v = ink[r * width + c];
        if (v > threshold) {
          count++;
          top = Math.min(top, r);
          bottom = Math.max(bottom, r);
          left = Math.min(left, c);
          right = Math.max(right, c);
        }
      }
    }
    if (count < MIN_INK_PIXELS) return { image: null, reason: "no digit found" };
    var h = bottom - top + 1;
    var w = right - left + 1;
    var cropped = new Float64Array(h * w);
    var largest = 0.0;
    for (var r2 = 0; r2 < h; r2++) {
      for (var c2 = 0; c2 < w; c2++) {
        var value = ink[(top + r2) * width + (left + c2)];
        cropped[r2 * w + c2] = value > threshold ? value : 0.0;
        largest = Math.max(largest, cropped[r2 * w + c2]);
      }
    }
    for (var q = 0; q < cropped.length; q++) cropped[q] = (cropped[q] * 255.0) / largest;
    var longer = Math.max(h, w);
    var newH = Math.max(1, halfUp((h * BOX) / longer));
    var newW = Math.max(1, halfUp((w * BOX) / longer));
    var resized = areaResizeAxis(areaResizeAxis(cropped, h, w, newH, 0), newH, w, newW, 1);
    var boxTop = Math.floor((SIZE - newH) / 2);
    var boxLeft = Math.floor((SIZE - newW) / 2);
    var pasted = new Float64Array(SIZE * SIZE);
    for (var r3 = 0; r3 < newH; r3++) {
      for (var c3 = 0; c3 < newW; c3++) {
        pasted[(boxTop + r3) * SIZE + boxLeft + c3] = resized[r3 * newW + c3];
      }
    }
    var centre = centreOfMass(pasted);
    var shiftRows = clip(halfUp(CENTRE - centre[0]), -boxTop, SIZE - newH - boxTop);
    var shiftColumns = clip(halfUp(CENTRE - centre[1]), -boxLeft, SIZE - newW - boxLeft);
    var image = new Uint8Array(SIZE * SIZE);
    for (var r4 = 0; r4 < newH; r4++) {
      for (var c4 = 0; c4 < newW; c4++) {
        var at = (boxTop + shiftRows + r4) * SIZE + boxLeft + shiftColumns + c4;
        image[at] = clip(halfUp(resized[r4 * newW + c4]), 0, 255);
      }
    }
    return { image: image, centre: centre, threshold: threshold };
  }

  // --- The model: float64 weights, base64 little-endian, as checks/own_digit/draw_model.py
  // writes them; relu hidden layers, softmax output (scikit-learn's MLPClassifier).

  function decodeFloat64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var view = new DataView(bytes.buffer);
    var values = new Float64Array(bytes.length / 8);
    for (var k = 0; k < values.length; k++) values[k] = view.getFloat64(8 * k, true);
    return values;
  }

  function loadModel(described) {
    if (!described || !described.layers) return null;
    return {
      classes: described.classes,
      testAccuracy: described.test_accuracy,
      nWeights: described.n_weights,
      layers: described.layers.map(function (layer) {
        return {
          inputs: layer.inputs,
          outputs: layer.outputs,
          weights: decodeFloat64(layer.weights), // inputs x outputs, row-major
          biases: decodeFloat64(layer.biases),
        };
      }),
    };
  }

  // MLPClassifier.predict_proba of one image scaled by 1/255, in float64.
  function predictProba(model, image) {
    var activation = new Float64Array(image.length);
    for (var p = 0; p < image.length; p++) activation[p] = image[p] / 255.0;
    for (var l = 0; l < model.layers.length; l++) {
      var layer = model.layers[l];
      var next = new Float64Array(layer.outputs);
      for (var o = 0; o < layer.outputs; o++) {
        var total = 0.0;
        for (var i = 0; i < layer.inputs; i++) {
          total += activation[i] * layer.weights[i * layer.outputs + o];
        }
        next[o] = total + layer.biases[o];
      }
      if (l < model.layers.length - 1) {
        for (var h = 0; h < next.length; h++) next[h] = Math.max(next[h], 0.0);
      }
      activation = next;
    }
    var largest = -Infinity;
    for (var k = 0; k < activation.length; k++) largest = Math.max(largest, activation[k]);
    var norm = 0.0;
    for (var e = 0; e < activation.length; e++) {
      activation[e] = Math.exp(activation[e] - largest);
      norm += activation[e];
    }
    for (var d = 0; d < activation.length; d++) activation[d] /= norm;
    return activation;
  }

  // --- The drawing interface.

  var STYLE = [
    ".draw-digit{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start;margin:1rem 0}",
    ".draw-digit canvas{border:1px solid #888;border-radius:4px;touch-action:none}",
    ".draw-digit .dd-pad{display:flex;flex-direction:column;gap:.5rem;align-items:flex-start}",
    ".draw-digit .dd-board{cursor:crosshair;background:#fff}",
    ".draw-digit .dd-seen canvas{image-rendering:pixelated;background:#000}",
    ".draw-digit .dd-side{display:flex;flex-direction:column;gap:.8rem}",
    ".draw-digit .dd-caption{font-size:.85rem;color:#777;max-width:280px}",
    ".draw-digit .dd-bars{min-width:16rem;font-family:monospace}",
    ".draw-digit .dd-row{display:flex;align-items:center;gap:.4rem;height:1.4rem}",
    ".draw-digit .dd-track{flex:1;background:#eee;height:1rem;border-radius:2px}",
    ".draw-digit .dd-fill{background:#4a7ab5;height:100%;border-radius:2px;width:0}",
    ".draw-digit .dd-best .dd-fill{background:#d9822b}",
    ".draw-digit .dd-best{font-weight:bold}",
    ".draw-digit .dd-answer{font-size:1.4rem;margin:.3rem 0}",
    ".draw-digit button{padding:.2rem .9rem}",
  ].join("\n");

  function element(tag, className, parent) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (parent) parent.appendChild(made);
    return made;
  }

  /* Build the drawing interface inside `container`.
   * options.model: what window.MNIST_DRAW_MODEL holds (optional: without it, no bars);
   * options.onChange(state): called after each stroke and on Clear;
   * options.canvasSize: the drawing canvas's side in pixels (280). */
  function mount(container, options) {
    options = options || {};
    var side = options.canvasSize || 280;
    var model = options.model ? loadModel(options.model) : null;
    var doc = container.ownerDocument || document;
    if (!doc.getElementById("draw-digit-style")) {
      var style = doc.createElement("style");
      style.id = "draw-digit-style";
      style.textContent = STYLE;
      (doc.head || doc.body).appendChild(style);
    }
    container.classList.add("draw-digit");

    var pad = element("div", "dd-pad", container);
    var board = element("canvas", "dd-board", pad);
    board.width = side;
    board.height = side;
    board.setAttribute("aria-label", "Draw a digit here");
    var clear = element("button", "dd-clear", pad);
    clear.type = "button";
    clear.textContent = "Clear";

    var column = element("div", "dd-side", container);
    var seen = element("div", "dd-seen", column);
    var seenTitle = element("div", "dd-caption", seen);
    seenTitle.textContent = "What the model receives (28\u00d728):";
    var preview = element("canvas", "", seen);
    preview.width = SIZE;
    preview.height = SIZE;
    preview.style.width = "140px";
    preview.style.height = "140px";

    var bars = element("div", "dd-bars", column);
    var answer = element("div", "dd-answer", bars);
    var rows = [];
    if (model) {
      for (var digit = 0; digit < 10; digit++) {
        var row = element("div", "dd-row", bars);
        element("span", "", row).textContent = String(digit);
        var fill = element("div", "dd-fill", element("div", "dd-track", row));
        var percent = element("span", "dd-percent", row);
        rows.push({ row: row, fill: fill, percent: percent });
      }
      var about = element("div", "dd-caption dd-about", bars);
      about.textContent =
        "An MLP, " + model.nWeights.toLocaleString("en") + " weights" +
        (typeof model.testAccuracy === "number"
          ? ", " + (100 * model.testAccuracy).toFixed(2) + " % right on MNIST's 10,000 test images."
          : ".");
    }

    var ctx = board.getContext("2d", { willReadFrequently: true });
    var state = { rgba: null, width: side, height: side, image28: null, probabilities: null };

    function blank() {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, side, side);
    }

    function show() {
      var pixels = ctx.getImageData(0, 0, side, side).data;
      var result = toMnist(pixels, side, side);
      state.rgba = pixels;
      state.image28 = result.image;
      state.probabilities = null;
      state.predicted = null;
      var previewCtx = preview.getContext("2d");
      var shown = previewCtx.createImageData(SIZE, SIZE);
      for (var p = 0; p < SIZE * SIZE; p++) {
        var v = result.image ? result.image[p] : 0;
        shown.data[4 * p] = v;
        shown.data[4 * p + 1] = v;
        shown.data[4 * p + 2] = v;
        shown.data[4 * p + 3] = 255;
      }
      previewCtx.putImageData(shown, 0, 0);
      if (model && result.image) {
        var probabilities = predictProba(model, result.image);
        var best = 0;
        for (var k = 1; k < probabilities.length; k++) {
          if (probabilities[k] > probabilities[best]) best = k;
        }
        state.probabilities = probabilities;
        state.predicted = Number(model.classes[best]);
        answer.textContent = "Prediction: " + model.classes[best];
        rows.forEach(function (bar, index) {
          bar.fill.style.width = (100 * probabilities[index]).toFixed(1) + "%";
          bar.percent.textContent = (100 * probabilities[index]).toFixed(1).padStart(5) + " %";
          bar.row.classList.toggle("dd-best", index === best);
        });
      } else {
        answer.textContent = model ? "Draw a digit" : "";
        rows.forEach(function (bar) {
          bar.fill.style.width = "0";
          bar.percent.textContent = "";
          bar.row.classList.remove("dd-best");
        });
      }
      if (options.onChange) options.onChange(state);
    }

    var drawing = false;
    var last = null;
    function point(event) {
      var box = board.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * side) / box.width,
        ((event.clientY - box.top) * side) / box.height,
      ];
    }
    function line(from, to) {
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = side / 14;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }
    board.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = point(event);
      line(last, last);
      if (board.setPointerCapture) board.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    board.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var next = point(event);
      line(last, next);
      last = next;
      event.preventDefault();
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      show();
    }
    board.addEventListener("pointerup", end);
    board.addEventListener("pointercancel", end);
    clear.addEventListener("click", function () {
      blank();
      show();
    });

    blank();
    show();
    return {
      state: state,
      clear: function () {
        blank();
        show();
      },
    };
  }

  root.DrawDigit = {
    toMnist: toMnist,
    loadModel: loadModel,
    predictProba: predictProba,
    mount: mount,
    SIZE: SIZE,
  };
})(typeof window !== "undefined" ? window : globalThis);
