/* Draw a digit: the canvas, MNIST-style preprocessing and the MLP's forward pass, in the browser.
 *
 * One source for the book's "Draw a digit" page (a classic <script>, so that it loads from
 * file://) and the notebook's DigitCanvas widget (checks/own_digit/widget.py appends an ES-module
 * `export` to this text). It sets `DrawDigit` on the global object:
 *
 *   DrawDigit.toMnist(rgba, width, height)  -> {image: Uint8Array(784)} or {image: null, reason}
 *   DrawDigit.loadModel(window.MNIST_DRAW_MODEL) -> a model for predictProba
 *   DrawDigit.predictProba(model, image)    -> Float64Array(10)
 *   DrawDigit.mount(element, {model, samples, onChange}) -> the canvas, the 28x28 preview, the bars
 *
 * toMnist is a port of checks/own_digit/preprocess.py's robust recipe (to_mnist), step for step
 * and in the same order of floating-point operations, so that both give the same 28x28 bytes
 * (tests/test_draw_page.py compares them in Chromium). Every rounding is floor(x + 0.5); the
 * cleaning steps (checks/own_digit/morphology.py) work on integers and booleans.
 */
(function (root) {
  "use strict";

  var SIZE = 28; // MNIST's frame
  var BOX = 20; // the longer side of the digit in the frame
  var CENTRE = 14.0; // where the centre of mass goes (scipy.ndimage convention: row, column)
  var BORDER_FRACTION = 0.05; // a mark within this share of an edge touches it (step 6)
  var MIN_INK = 32; // below this maximum ink there is no digit
  var MIN_INK_PIXELS = 5; // fewer pixels are a dot, not a digit
  var PAPER_WINDOW = 1 / 8; // step 3: the paper's window, a share of the shorter side
  var LEVEL_FRACTION = 0.4; // step 4: ink above this share of the digit's level
  var LINE_LENGTH = 0.9; // steps 5 and 6: a line runs across this share of the image...
  var LINE_THICKNESS = 0.06; // ... and is at most this share of its length thick
  var PART_INK = 0.1; // step 6: another mark with this share of the ink is part of the digit
  var RIVAL_INK = 0.5; // ... a mark left out with this share or more is another digit
  var PEN_BOX = 80; // step 8: the size at which the pen works
  var MNIST_STROKE = 2.0; // MNIST's median stroke width, pixels of the 20-pixel box
  var THINNEST_STROKE = 1.5; // thinner strokes are thickened to MNIST's...
  var THICKEST_STROKE = 3.0; // ... thicker ones thinned

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

  // The median of integers from -limit to limit, by counting (an image of millions of pixels).
  function integerMedian(values, limit) {
    var counts = new Float64Array(2 * limit + 1);
    for (var p = 0; p < values.length; p++) counts[values[p] + limit] += 1;
    var n = values.length;
    function nth(k) {
      var seen = 0;
      for (var v = 0; v < counts.length; v++) {
        seen += counts[v];
        if (seen > k) return v - limit;
      }
      return limit;
    }
    if (n % 2 === 1) return nth((n - 1) / 2);
    return (nth(n / 2 - 1) + nth(n / 2)) / 2;
  }

  // morphology.box_sum3: the sum of each 3x3 neighbourhood, edge pixels repeated (integers).
  function boxSum3(values, height, width) {
    var total = new Float64Array(values.length);
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        var s = 0.0;
        for (var dr = -1; dr <= 1; dr++) {
          var rr = Math.min(Math.max(r + dr, 0), height - 1);
          for (var dc = -1; dc <= 1; dc++) {
            var cc = Math.min(Math.max(c + dc, 0), width - 1);
            s += values[rr * width + cc];
          }
        }
        total[r * width + c] = s;
      }
    }
    return total;
  }

  // The maximum (sign 1) or minimum (sign -1) over windows of `size` along one axis, each window
  // centred and cut at the edges: a monotonic queue, one pass a line.
  function filterAxis(values, height, width, size, axis, sign) {
    var out = new Float64Array(values.length);
    var half = (size - 1) / 2;
    var lines = axis === 0 ? width : height;
    var length = axis === 0 ? height : width;
    var step = axis === 0 ? width : 1;
    var queue = new Int32Array(length);
    for (var line = 0; line < lines; line++) {
      var base = axis === 0 ? line : line * width;
      var head = 0;
      var tail = 0;
      var next = 0; // the next index to enter the queue
      for (var i = 0; i < length; i++) {
        var last = Math.min(length - 1, i + half);
        while (next <= last) {
          var v = sign * values[base + next * step];
          while (tail > head && sign * values[base + queue[tail - 1] * step] <= v) tail--;
          queue[tail++] = next++;
        }
        while (queue[head] < i - half) head++;
        out[base + i * step] = values[base + queue[head] * step];
      }
    }
    return out;
  }

  // morphology.closing: the maximum over each size x size square, then the minimum.
  function closing(values, height, width, size) {
    var m = filterAxis(values, height, width, size, 0, 1);
    m = filterAxis(m, height, width, size, 1, 1);
    m = filterAxis(m, height, width, size, 0, -1);
    return filterAxis(m, height, width, size, 1, -1);
  }

  // Step 2: whether the ink is darker than its paper.
  function polarity(gray, height, width) {
    var level = integerMedian(gray, 255); // gray levels: integers 0..255
    var sums = boxSum3(gray, height, width);
    var low = Infinity;
    var high = -Infinity;
    for (var p = 0; p < sums.length; p++) {
      low = Math.min(low, sums[p]);
      high = Math.max(high, sums[p]);
    }
    return 9.0 * level - low >= high - 9.0 * level;
  }

  // Step 3: the ink, 0 on the paper.
  function inkOnPaper(gray, height, width, darkInk) {
    var paper = new Float64Array(gray.length);
    for (var p = 0; p < gray.length; p++) paper[p] = darkInk ? gray[p] : 255.0 - gray[p];
    var size = 2 * halfUp(Math.min(height, width) * PAPER_WINDOW) + 1;
    var sums = boxSum3(paper, height, width);
    var around = closing(sums, height, width, size);
    // Darker than the paper, and in a darker neighbourhood: not the edge of a sharp shadow.
    var difference = new Int32Array(gray.length); // integers from -2295 to 2295
    for (var q = 0; q < gray.length; q++) {
      difference[q] = Math.min(around[q] - 9.0 * paper[q], 3.0 * (around[q] - sums[q]));
    }
    var middle = integerMedian(difference, 2295);
    var ink = new Float64Array(gray.length);
    for (var k = 0; k < gray.length; k++) ink[k] = Math.max(difference[k] - middle, 0.0) / 9.0;
    return ink;
  }

  // Step 3 and Otsu's threshold on the 256-bin histogram of floor(ink + 0.5); first maximum wins.
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

  // Step 4: max(Otsu's threshold, 0.4 x the median ink above it).
  function digitThreshold(ink) {
    var threshold = otsuThreshold(ink);
    var above = [];
    for (var p = 0; p < ink.length; p++) if (ink[p] > threshold) above.push(ink[p]);
    var level = above.length ? median(above) : 0.0;
    return Math.max(threshold, LEVEL_FRACTION * level);
  }

  function countOf(mask) {
    var n = 0;
    for (var p = 0; p < mask.length; p++) n += mask[p];
    return n;
  }

  // Step 5: each band of rows inked across 90 % of the page, cleared when thin: a ruled line;
  // a stroke crossing it keeps its pixels there.
  function clearRuledLine(mask, height, width) {
    var full = new Uint8Array(height);
    for (var r = 0; r < height; r++) {
      var n = 0;
      for (var c = 0; c < width; c++) n += mask[r * width + c];
      if (n >= LINE_LENGTH * width) full[r] = 1;
    }
    var thickest = Math.max(2, halfUp(BORDER_FRACTION * height));
    var rows = new Uint8Array(height);
    var any = false;
    var start = -1;
    for (var row = 0; row <= height; row++) {
      if (row < height && full[row]) {
        if (start < 0) start = row;
      } else if (start >= 0) {
        if (row - start <= thickest) {
          for (var k = start; k < row; k++) rows[k] = 1;
          any = true;
        }
        start = -1;
      }
    }
    if (!any) return mask;
    function near(r2, c2) {
      // ink at (r2, c2) or a column either side
      for (var dc = -1; dc <= 1; dc++) {
        var cc = c2 + dc;
        if (cc >= 0 && cc < width && mask[r2 * width + cc]) return true;
      }
      return false;
    }
    var cleared = new Uint8Array(mask.length);
    for (var p = 0; p < mask.length; p++) cleared[p] = rows[Math.floor(p / width)] ? 0 : mask[p];
    var band = 0;
    while (band < height) {
      if (!rows[band]) {
        band++;
        continue;
      }
      var end = band;
      while (end < height && rows[end]) end++;
      if (band > 0 && end < height) {
        for (var c3 = 0; c3 < width; c3++) {
          if (!(near(band - 1, c3) && near(end, c3))) continue;
          for (var r3 = band; r3 < end; r3++) cleared[r3 * width + c3] = mask[r3 * width + c3];
        }
      }
      band = end;
    }
    return countOf(cleared) >= MIN_INK_PIXELS ? cleared : mask;
  }

  // morphology.label_marks: 8-connected marks numbered in reading order (1, 2, ...), with their
  // boxes [top, bottom, left, right) and, if `ink` is given, their ink summed in reading order.
  function labelMarks(mask, height, width, ink) {
    var labels = new Int32Array(mask.length);
    var marks = [];
    var stack = new Int32Array(mask.length);
    for (var start = 0; start < mask.length; start++) {
      if (!mask[start] || labels[start]) continue;
      var label = marks.length + 1;
      var mark = { top: height, bottom: 0, left: width, right: 0, ink: 0.0 };
      marks.push(mark);
      var size = 0;
      stack[size++] = start;
      labels[start] = label;
      while (size > 0) {
        var p = stack[--size];
        var r = Math.floor(p / width);
        var c = p - r * width;
        mark.top = Math.min(mark.top, r);
        mark.bottom = Math.max(mark.bottom, r + 1);
        mark.left = Math.min(mark.left, c);
        mark.right = Math.max(mark.right, c + 1);
        for (var dr = -1; dr <= 1; dr++) {
          var rr = r + dr;
          if (rr < 0 || rr >= height) continue;
          for (var dc = -1; dc <= 1; dc++) {
            var cc = c + dc;
            if (cc < 0 || cc >= width) continue;
            var q = rr * width + cc;
            if (mask[q] && !labels[q]) {
              labels[q] = label;
              stack[size++] = q;
            }
          }
        }
      }
    }
    if (ink) {
      for (var k = 0; k < mask.length; k++) if (labels[k]) marks[labels[k] - 1].ink += ink[k];
    }
    return { labels: labels, marks: marks };
  }

  // preprocess.is_line: a mark across the page, thin.
  function isLine(tall, wide, height, width) {
    return (
      (wide >= LINE_LENGTH * width && tall <= Math.max(3, LINE_THICKNESS * wide)) ||
      (tall >= LINE_LENGTH * height && wide <= Math.max(3, LINE_THICKNESS * tall))
    );
  }

  // Steps 4 and 5: the digit's pixels; the page's lines set aside and the threshold taken again.
  function digitPixels(ink, height, width) {
    var threshold = digitThreshold(ink);
    var above = new Uint8Array(ink.length);
    for (var p = 0; p < ink.length; p++) above[p] = ink[p] > threshold ? 1 : 0;
    var mask = clearRuledLine(above, height, width);
    var found = labelMarks(mask, height, width, null);
    var lineMark = found.marks.map(function (m) {
      return isLine(m.bottom - m.top, m.right - m.left, height, width);
    });
    var lines = new Uint8Array(ink.length);
    var any = false;
    for (var q = 0; q < ink.length; q++) {
      var label = found.labels[q];
      lines[q] = (above[q] && !mask[q]) || (label && lineMark[label - 1]) ? 1 : 0;
      if (lines[q]) any = true;
    }
    if (!any) return mask;
    var rest = new Float64Array(ink.length);
    var restPeak = 0.0;
    var peak = 0.0;
    for (var k = 0; k < ink.length; k++) {
      rest[k] = lines[k] ? 0.0 : ink[k];
      restPeak = Math.max(restPeak, rest[k]);
      peak = Math.max(peak, ink[k]);
    }
    if (restPeak < Math.max(MIN_INK, 0.25 * peak)) return mask;
    var again = digitThreshold(rest);
    var second = new Uint8Array(ink.length);
    for (var r = 0; r < ink.length; r++) second[r] = rest[r] > again ? 1 : 0;
    return clearRuledLine(second, height, width);
  }

  // Step 6: the digit's marks. Returns {digit: Uint8Array} or {reason}.
  function selectDigit(mask, ink, height, width) {
    var found = labelMarks(mask, height, width, ink);
    var marks = found.marks;
    if (!marks.length) return { reason: "no digit found: nothing stands out from the background" };
    var border = Math.max(1, halfUp(BORDER_FRACTION * Math.min(height, width)));
    var weights = [];
    var largest = 0.0;
    marks.forEach(function (m) {
      var tall = m.bottom - m.top;
      var wide = m.right - m.left;
      m.line = isLine(tall, wide, height, width);
      m.touching =
        m.top < border || m.left < border || m.bottom > height - border || m.right > width - border;
      var weight = m.line ? 0.0 : m.ink * (m.touching ? 0.5 : 1.0);
      weights.push(weight);
      largest = Math.max(largest, weight);
    });
    if (!(largest > 0.0)) weights = marks.map(function (m) { return m.ink; });
    var main = 0;
    for (var i = 1; i < weights.length; i++) if (weights[i] > weights[main]) main = i;
    var digit = marks[main];
    var size = Math.max(digit.bottom - digit.top, digit.right - digit.left);
    var left = digit.left - 0.1 * size;
    var right = digit.right + 0.1 * size;
    var kept = new Uint8Array(marks.length + 1);
    kept[main + 1] = 1;
    var rivals = 0;
    marks.forEach(function (m, index) {
      if (index === main || m.line) return;
      var gap = Math.max(0, m.top - digit.bottom, digit.top - m.bottom);
      var beside = m.left < right && m.right > left;
      if (m.ink >= PART_INK * digit.ink && beside && gap <= 0.5 * size) kept[index + 1] = 1;
      else if (m.ink >= RIVAL_INK * digit.ink && !m.touching) rivals++;
    });
    if (rivals) {
      return {
        reason: "no single digit found: " + (rivals + 1) +
          " marks of about the same size (crop the picture to one digit)",
      };
    }
    var out = new Uint8Array(mask.length);
    for (var p = 0; p < mask.length; p++) out[p] = kept[found.labels[p]];
    var pixels = countOf(out);
    if (pixels < MIN_INK_PIXELS) {
      return {
        reason: "no digit found: what stands out from the background is a dot of " + pixels +
          (pixels === 1 ? " pixel" : " pixels") + ", not a digit",
      };
    }
    return { digit: out };
  }

  // The bounding box [top, bottom, left, right) of a non-empty mask, and the mask cut to it.
  function cropped(mask, height, width) {
    var top = height;
    var bottom = 0;
    var left = width;
    var right = 0;
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        if (mask[r * width + c]) {
          top = Math.min(top, r);
          bottom = Math.max(bottom, r + 1);
          left = Math.min(left, c);
          right = Math.max(right, c + 1);
        }
      }
    }
    var h = bottom - top;
    var w = right - left;
    var out = new Uint8Array(h * w);
    for (var r2 = 0; r2 < h; r2++) {
      for (var c2 = 0; c2 < w; c2++) out[r2 * w + c2] = mask[(top + r2) * width + left + c2];
    }
    return { mask: out, height: h, width: w };
  }

  function scaledSize(height, width, longer) {
    var largest = Math.max(height, width);
    return [
      Math.max(1, halfUp((height * longer) / largest)),
      Math.max(1, halfUp((width * longer) / largest)),
    ];
  }

  // Step 9: one axis by exact area averaging. `values` is rows x columns; axis 0 resizes rows.
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

  function areaResize(values, rows, columns, newRows, newColumns) {
    return areaResizeAxis(areaResizeAxis(values, rows, columns, newRows, 0), newRows, columns,
      newColumns, 1);
  }

  // morphology.stroke_width: 2 x area / perimeter.
  function strokeWidth(mask, height, width) {
    var area = 0;
    var perimeter = 0;
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        var v = mask[r * width + c];
        area += v;
        var up = r > 0 ? mask[(r - 1) * width + c] : 0;
        var leftOne = c > 0 ? mask[r * width + c - 1] : 0;
        if (v !== up) perimeter++;
        if (v !== leftOne) perimeter++;
      }
      if (width > 0 && mask[r * width + width - 1]) perimeter++; // the right edge
    }
    for (var c2 = 0; c2 < width; c2++) if (height > 0 && mask[(height - 1) * width + c2]) perimeter++;
    return perimeter ? (2.0 * area) / perimeter : 0.0;
  }

  function diskOffsets(radius) {
    var offsets = [];
    for (var dy = -radius; dy <= radius; dy++) {
      for (var dx = -radius; dx <= radius; dx++) {
        if (dy * dy + dx * dx <= radius * radius) offsets.push([dy + radius, dx + radius]);
      }
    }
    return offsets;
  }

  // morphology.dilate: retraced with a round pen; the image grows by `radius` on every side.
  function dilate(mask, height, width, radius) {
    var h = height + 2 * radius;
    var w = width + 2 * radius;
    var out = new Uint8Array(h * w);
    diskOffsets(radius).forEach(function (offset) {
      for (var r = 0; r < height; r++) {
        for (var c = 0; c < width; c++) {
          if (mask[r * width + c]) out[(r + offset[0]) * w + c + offset[1]] = 1;
        }
      }
    });
    return { mask: out, height: h, width: w };
  }

  // morphology.erode: the pixels whose whole round neighbourhood is in the mask.
  function erode(mask, height, width, radius) {
    var out = new Uint8Array(mask.length);
    var offsets = diskOffsets(radius);
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        var all = 1;
        for (var k = 0; k < offsets.length && all; k++) {
          var rr = r + offsets[k][0] - radius;
          var cc = c + offsets[k][1] - radius;
          if (rr < 0 || rr >= height || cc < 0 || cc >= width || !mask[rr * width + cc]) all = 0;
        }
        out[r * width + c] = all;
      }
    }
    return out;
  }

  // Step 8: the digit at PEN_BOX pixels, strokes of MNIST's width.
  function withMnistStroke(crop) {
    var size = scaledSize(crop.height, crop.width, PEN_BOX);
    var values = new Float64Array(crop.mask.length);
    for (var p = 0; p < values.length; p++) values[p] = crop.mask[p];
    var resized = areaResize(values, crop.height, crop.width, size[0], size[1]);
    var work = { mask: new Uint8Array(resized.length), height: size[0], width: size[1] };
    for (var q = 0; q < resized.length; q++) work.mask[q] = resized[q] > 0.0 ? 1 : 0;
    var width = strokeWidth(work.mask, work.height, work.width);
    var target = (MNIST_STROKE * PEN_BOX) / BOX;
    var radius = halfUp(Math.abs(target - width) / (2.0 * (1.0 - MNIST_STROKE / BOX)));
    if (width < (THINNEST_STROKE * PEN_BOX) / BOX && radius >= 1) {
      work = dilate(work.mask, work.height, work.width, radius);
    } else if (width > (THICKEST_STROKE * PEN_BOX) / BOX && radius >= 1) {
      var thinner = erode(work.mask, work.height, work.width, radius);
      var before = labelMarks(work.mask, work.height, work.width, null).marks.length;
      var after = labelMarks(thinner, work.height, work.width, null).marks.length;
      if (countOf(thinner) > 0 && after === before) work.mask = thinner;
    }
    return cropped(work.mask, work.height, work.width);
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
   * Returns {image: Uint8Array(784), centre: [row, column] before the shift}, or
   * {image: null, reason} when there is no single digit (reason: Python's message). */
  function toMnist(rgba, width, height) {
    if (!(width > 0 && height > 0)) return { image: null, reason: "the image has no pixel" };
    var gray = loadGray(rgba, width, height);
    var ink = inkOnPaper(gray, height, width, polarity(gray, height, width));
    var peak = 0.0;
    for (var p = 0; p < ink.length; p++) peak = Math.max(peak, ink[p]);
    if (peak < MIN_INK) {
      return {
        image: null,
        reason: "no digit found: the image is uniform (nothing stands out from its background)",
      };
    }
    var mask = digitPixels(ink, height, width);
    var selected = selectDigit(mask, ink, height, width);
    if (!selected.digit) return { image: null, reason: selected.reason };
    var pen = withMnistStroke(cropped(selected.digit, height, width));
    var values = new Float64Array(pen.mask.length);
    for (var v = 0; v < values.length; v++) values[v] = pen.mask[v] * 255.0;
    var size = scaledSize(pen.height, pen.width, BOX);
    var newH = size[0];
    var newW = size[1];
    var resized = areaResize(values, pen.height, pen.width, newH, newW);
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
    return { image: image, centre: centre };
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
    ".draw-digit .dd-caption{font-size:.85rem;color:#555;max-width:280px}",
    ".draw-digit .dd-bars{min-width:16rem;font-family:monospace}",
    ".draw-digit .dd-row{display:flex;align-items:center;gap:.4rem;height:1.4rem}",
    ".draw-digit .dd-track{flex:1;background:#eee;height:1rem;border-radius:2px}",
    ".draw-digit .dd-fill{background:#4a7ab5;height:100%;border-radius:2px;width:0}",
    ".draw-digit .dd-best .dd-fill{background:#d9822b}",
    ".draw-digit .dd-best{font-weight:bold}",
    ".draw-digit .dd-answer{font-size:1.4rem;margin:.3rem 0;min-height:1.8rem}",
    ".draw-digit button{padding:.2rem .9rem}",
    ".draw-digit .dd-samples{display:flex;flex-wrap:wrap;gap:.3rem;max-width:280px}",
    ".draw-digit .dd-samples button{padding:.2rem .5rem;min-width:2rem}",
    ".draw-digit .dd-load{display:flex;flex-direction:column;gap:.3rem;font-size:.9rem}",
    ".draw-digit button:focus-visible,.draw-digit input:focus-visible" +
      "{outline:3px solid #d9822b;outline-offset:2px}",
  ].join("\n");

  // The longest side an image is read at: a 12-megapixel photo would take seconds.
  var LARGEST_IMAGE = 1024;
  var counter = 0;

  function element(tag, className, parent) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (parent) parent.appendChild(made);
    return made;
  }

  /* Build the drawing interface inside `container`.
   * options.model: what window.MNIST_DRAW_MODEL holds (optional: without it, no bars);
   * options.samples: [{name, label, src}] sample digits to load with a button (optional);
   * options.onChange(state): called after each stroke, each image loaded and on Clear;
   * options.canvasSize: the drawing canvas's side in pixels (280).
   * Everything the pointer does, the keyboard can do: load a sample or an image file (buttons
   * and a file field), and the prediction is announced in a live region. */
  function mount(container, options) {
    options = options || {};
    var side = options.canvasSize || 280;
    var model = options.model ? loadModel(options.model) : null;
    var samples = options.samples || [];
    var doc = container.ownerDocument || document;
    var id = "dd" + ++counter;
    if (!doc.getElementById("draw-digit-style")) {
      var style = doc.createElement("style");
      style.id = "draw-digit-style";
      style.textContent = STYLE;
      (doc.head || doc.body).appendChild(style);
    }
    container.classList.add("draw-digit");

    var pad = element("div", "dd-pad", container);
    var help = element("div", "dd-caption dd-help", pad);
    help.id = id + "-help";
    help.textContent =
      "Draw a digit with a mouse, a finger or a pen. Without one, load a sample digit or an " +
      "image file below.";
    var board = element("canvas", "dd-board", pad);
    board.width = side;
    board.height = side;
    board.setAttribute("role", "img");
    board.setAttribute("aria-label", "Drawing area for a digit");
    board.setAttribute("aria-describedby", help.id);
    var clear = element("button", "dd-clear", pad);
    clear.type = "button";
    clear.textContent = "Clear";

    var loading = element("div", "dd-load", pad);
    if (samples.length) {
      var sampleTitle = element("div", "dd-caption", loading);
      sampleTitle.id = id + "-samples";
      sampleTitle.textContent = "Load a sample digit (photos and drawings made for the course):";
      var sampleRow = element("div", "dd-samples", loading);
      sampleRow.setAttribute("role", "group");
      sampleRow.setAttribute("aria-labelledby", sampleTitle.id);
      samples.forEach(function (sample) {
        var button = element("button", "dd-sample", sampleRow);
        button.type = "button";
        button.textContent = String(sample.label);
        button.setAttribute("aria-label", "Sample digit " + sample.label + ", " + sample.name);
        button.addEventListener("click", function () {
          loadImage(sample.src, sample.name);
        });
      });
    }
    var fileLabel = element("label", "dd-caption", loading);
    fileLabel.textContent = "Read an image file (a photo or a drawing of one digit):";
    var file = element("input", "dd-file", fileLabel);
    file.type = "file";
    file.accept = "image/*";

    var column = element("div", "dd-side", container);
    var seen = element("div", "dd-seen", column);
    var seenTitle = element("div", "dd-caption", seen);
    seenTitle.textContent = "What the model receives (28\u00d728):";
    var preview = element("canvas", "", seen);
    preview.width = SIZE;
    preview.height = SIZE;
    preview.style.width = "140px";
    preview.style.height = "140px";
    preview.setAttribute("role", "img");
    preview.setAttribute("aria-label", "The 28 by 28 image the model receives");

    var bars = element("div", "dd-bars", column);
    var answer = element("div", "dd-answer", bars);
    answer.setAttribute("role", "status");
    answer.setAttribute("aria-live", "polite");
    answer.setAttribute("aria-atomic", "true");
    var rows = [];
    if (model) {
      for (var digit = 0; digit < 10; digit++) {
        var row = element("div", "dd-row", bars);
        element("span", "", row).textContent = String(digit);
        var fill = element("div", "dd-fill", element("div", "dd-track", row));
        fill.setAttribute("aria-hidden", "true");
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
    var drawn = false; // a stroke or an image since the last Clear

    function fit(width, height) {
      var scale = Math.min(1, side / Math.max(width, height));
      board.style.width = Math.round(width * scale) + "px";
      board.style.height = Math.round(height * scale) + "px";
    }

    function blank() {
      board.width = side;
      board.height = side;
      fit(side, side);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, side, side);
      board.setAttribute("aria-label", "Drawing area for a digit, empty");
      drawn = false;
    }

    function show(what) {
      var width = board.width;
      var height = board.height;
      var pixels = ctx.getImageData(0, 0, width, height).data;
      var result = toMnist(pixels, width, height);
      state.rgba = pixels;
      state.width = width;
      state.height = height;
      state.image28 = result.image;
      state.probabilities = null;
      state.predicted = null;
      state.reason = result.image ? null : result.reason;
      if (what) board.setAttribute("aria-label", "Drawing area for a digit, showing " + what);
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
        answer.textContent =
          "Prediction: " + model.classes[best] + " (" + (100 * probabilities[best]).toFixed(0) +
          " %)";
        rows.forEach(function (bar, index) {
          bar.fill.style.width = (100 * probabilities[index]).toFixed(1) + "%";
          bar.percent.textContent = (100 * probabilities[index]).toFixed(1).padStart(5) + " %";
          bar.row.classList.toggle("dd-best", index === best);
        });
      } else {
        if (!model) answer.textContent = "";
        else if (!drawn) answer.textContent = "Draw a digit";
        else answer.textContent = result.reason.charAt(0).toUpperCase() + result.reason.slice(1);
        rows.forEach(function (bar) {
          bar.fill.style.width = "0";
          bar.percent.textContent = "";
          bar.row.classList.remove("dd-best");
        });
      }
      if (options.onChange) options.onChange(state);
    }

    // An image (a data: or blob: address) becomes the board: scaled to LARGEST_IMAGE at most,
    // shown within the board's square; strokes may be added on it.
    function loadImage(src, name) {
      var image = new Image();
      function done() {
        if (src.indexOf("blob:") === 0) URL.revokeObjectURL(src);
      }
      image.onload = function () {
        done();
        var scale = Math.min(1, LARGEST_IMAGE / Math.max(image.naturalWidth, image.naturalHeight));
        board.width = Math.max(1, Math.round(image.naturalWidth * scale));
        board.height = Math.max(1, Math.round(image.naturalHeight * scale));
        fit(board.width, board.height);
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(0, 0, board.width, board.height);
        ctx.drawImage(image, 0, 0, board.width, board.height);
        drawn = true;
        show(name);
      };
      image.onerror = function () {
        done();
        answer.textContent = "Cannot read " + name + " as an image";
        if (options.onChange) options.onChange(state);
      };
      image.src = src;
    }

    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) return;
      var address = URL.createObjectURL(chosen);
      loadImage(address, chosen.name);
    });

    var drawing = false;
    var last = null;
    function point(event) {
      var box = board.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * board.width) / box.width,
        ((event.clientY - box.top) * board.height) / box.height,
      ];
    }
    function line(from, to) {
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = Math.max(board.width, board.height) / 14;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }
    board.addEventListener("pointerdown", function (event) {
      drawing = true;
      drawn = true;
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
      show("your drawing");
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
      loadImage: loadImage,
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
