// Pixels -> model input, step for step as src/captchalab/data/resize.py defines it, so the
// tensor matches the Python Solver's bit for bit. Integer steps are exact; the resize sums
// its taps in float64 (JavaScript numbers) in increasing input order and rounds to float32
// after each pass, as Pillow's float-image BILINEAR does on the Python side.

const LUMA = [19595, 38470, 7471]; // (19595 R + 38470 G + 7471 B + 32768) >> 16

/**
 * RGBA bytes -> channel-interleaved uint8 pixels after compositing transparency over white
 * (the integer formula of Pillow's alpha_composite, which the Python loader uses).
 * @param {Uint8ClampedArray|Uint8Array} rgba
 * @returns {Uint8Array} RGB, length width*height*3
 */
export function flattenAlpha(rgba, width, height) {
  const n = width * height;
  if (rgba.length !== n * 4) throw new Error(`expected ${n * 4} RGBA bytes, got ${rgba.length}`);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = rgba[i * 4 + c];
      if (a === 255) rgb[i * 3 + c] = v;
      else if (a === 0) rgb[i * 3 + c] = 255;
      else {
        // coef1 = a << 7, coef2 = (255 - a) << 7; SHIFTFORDIV255(x) = ((x >> 8) + x) >> 8
        const t = (v * a + 255 * (255 - a)) * 128 + (0x80 << 7);
        rgb[i * 3 + c] = (((t >>> 8) + t) >>> 8) >>> 7;
      }
    }
  }
  return rgb;
}

/** RGB -> gray, ITU-R 601-2 luma in 16-bit fixed point. */
export function grayscale(rgb, width, height) {
  const n = width * height;
  const gray = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = i * 3;
    gray[i] = (rgb[j] * LUMA[0] + rgb[j + 1] * LUMA[1] + rgb[j + 2] * LUMA[2] + 32768) >>> 16;
  }
  return gray;
}

/** Median of each size x size window over the edge-replicated image, per channel. */
export function medianFilter(pixels, width, height, channels, size) {
  if (size < 1 || size % 2 === 0) throw new Error(`median filter size must be odd, got ${size}`);
  const out = new Uint8Array(pixels.length);
  const half = (size - 1) / 2;
  const window = new Uint8Array(size * size);
  const middle = (size * size - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let k = 0;
        for (let dy = -half; dy <= half; dy++) {
          const yy = Math.min(height - 1, Math.max(0, y + dy));
          for (let dx = -half; dx <= half; dx++) {
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            window[k++] = pixels[(yy * width + xx) * channels + c];
          }
        }
        window.sort();
        out[(y * width + x) * channels + c] = window[middle];
      }
    }
  }
  return out;
}

/** Pillow's triangle filter (Resample.c's bilinear): support radius and weight at a distance. */
export const BILINEAR = { support: 1.0, weight: (x) => Math.max(0, 1.0 - Math.abs(x)) };

/**
 * One axis's normalised taps for a resampling filter, as Pillow's precompute_coeffs: for
 * each output sample the first input index and the weights of the inputs from there on.
 * @param {{support: number, weight: (x: number) => number}} filter
 * @returns {{start: number, weights: number[]}[]}
 */
export function filterTaps(inSize, outSize, filter) {
  if (inSize < 1 || outSize < 1) throw new Error(`sizes must be positive: ${inSize} -> ${outSize}`);
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = filter.support * filterScale;
  const reciprocal = 1.0 / filterScale;
  const taps = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const start = Math.max(Math.trunc(centre - support + 0.5), 0);
    const end = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const raw = [];
    let total = 0;
    for (let x = start; x < end; x++) {
      const w = filter.weight((x - centre + 0.5) * reciprocal);
      raw.push(w);
      total += w;
    }
    taps.push({ start, weights: raw.map((w) => (total !== 0 ? w / total : w)) });
  }
  return taps;
}

/**
 * The triangle filter's taps for one axis: for each output sample, the input indices and
 * normalised weights of its nonzero span (as data/resize.py's resize_weights).
 * @returns {{indices: number[], weights: number[]}[]}
 */
export function resizeTaps(inSize, outSize) {
  return filterTaps(inSize, outSize, BILINEAR).map(({ start, weights }) => {
    // Keep only the nonzero taps, like np.flatnonzero in the Python taps.
    const indices = [];
    const span = [];
    weights.forEach((w, k) => {
      if (w !== 0) {
        span.push(w);
        indices.push(start + k);
      }
    });
    return { indices, weights: span };
  });
}

function resizeAxis(values, width, height, channels, outSize, horizontal) {
  const inSize = horizontal ? width : height;
  const taps = resizeTaps(inSize, outSize);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Float32Array(outW * outH * channels); // each pass rounds to float32
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const tap = taps[horizontal ? x : y];
      for (let c = 0; c < channels; c++) {
        let total = 0;
        for (let k = 0; k < tap.indices.length; k++) {
          const src = horizontal
            ? (y * width + tap.indices[k]) * channels + c
            : (tap.indices[k] * width + x) * channels + c;
          total += tap.weights[k] * values[src];
        }
        out[(y * outW + x) * channels + c] = total;
      }
    }
  }
  return out;
}

/** Interleaved pixels -> (outH, outW, C) float32, columns first then rows. */
export function resize(pixels, width, height, channels, outH, outW) {
  const horizontal = resizeAxis(pixels, width, height, channels, outW, true);
  return resizeAxis(horizontal, outW, height, channels, outH, false);
}

/** Largest (w, h) of the image's aspect ratio inside the box, rounded half up (integers). */
export function innerSize(width, height, boxWidth, boxHeight) {
  if (width * boxHeight >= height * boxWidth) {
    return [boxWidth, Math.max(1, Math.floor((height * boxWidth * 2 + width) / (2 * width)))];
  }
  return [Math.max(1, Math.floor((width * boxHeight * 2 + height) / (2 * height))), boxHeight];
}

/** Per-channel median of the outer ring (rows 0 and H-1, columns 0 and W-1, corners twice). */
export function borderValue(values, width, height, channels) {
  const result = [];
  for (let c = 0; c < channels; c++) {
    const ring = [];
    for (const y of [0, height - 1]) {
      for (let x = 0; x < width; x++) ring.push(values[(y * width + x) * channels + c]);
    }
    for (const x of [0, width - 1]) {
      for (let y = 0; y < height; y++) ring.push(values[(y * width + x) * channels + c]);
    }
    ring.sort((a, b) => a - b);
    const n = ring.length;
    result.push(n % 2 ? ring[(n - 1) / 2] : (ring[n / 2 - 1] + ring[n / 2]) / 2);
  }
  return result;
}

/** (H, W, C) pixels -> (outH, outW, C) values by "stretch" or "pad". */
export function fit(pixels, width, height, channels, outH, outW, mode) {
  if (mode === "stretch" || (width === outW && height === outH)) {
    return resize(pixels, width, height, channels, outH, outW);
  }
  if (mode !== "pad") throw new Error(`resize must be 'stretch' or 'pad', got '${mode}'`);
  const [innerW, innerH] = innerSize(width, height, outW, outH);
  const resized = resize(pixels, width, height, channels, innerH, innerW);
  const fill = borderValue(resized, innerW, innerH, channels);
  const canvas = new Float64Array(outW * outH * channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < channels; c++) {
        canvas[(y * outW + x) * channels + c] =
          y < innerH && x < innerW ? resized[(y * innerW + x) * channels + c] : fill[c];
      }
    }
  }
  return canvas;
}

/**
 * RGBA pixels -> the model's (C, H, W) Float32Array in [0, 1], following the model's
 * preprocessing metadata ({height, width, channels, resize, median_filter, crop_text}).
 */
export function toTensor(rgba, width, height, spec) {
  return rgbToTensor(flattenAlpha(rgba, width, height), width, height, spec);
}

/** RGB pixels (alpha already composited, as flattenAlpha gives them) -> toTensor's tensor. */
export function rgbToTensor(rgb, width, height, spec) {
  const { height: outH, width: outW, channels } = spec;
  if (channels !== 1 && channels !== 3) throw new Error(`channels must be 1 or 3, got ${channels}`);
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  const luma = grayscale(rgb, width, height);
  let pixels = channels === 1 ? luma : rgb;
  if (spec.crop_text) {
    const [top, bottom, left, right] = textBox(luma, width, height);
    pixels = cropPixels(pixels, width, channels, top, bottom, left, right);
    width = right - left;
    height = bottom - top;
  }
  if (spec.median_filter) pixels = medianFilter(pixels, width, height, channels, spec.median_filter);
  const fitted = fit(pixels, width, height, channels, outH, outW, spec.resize);
  const tensor = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < outH * outW; i++) tensor[c * outH * outW + i] = fitted[i * channels + c] / 255;
  }
  return tensor;
}

export const WIDTH_STEP = 16; // dynamic-width inputs are cut to a multiple of this many columns

/**
 * Columns of a (C, H, W) tensor up to its last one that is not pure fill: the fill is the
 * right edge column when it is one constant per channel (data/resize.py content_width).
 */
export function contentWidth(tensor, channels, height, width) {
  const plane = height * width;
  const fill = [];
  for (let c = 0; c < channels; c++) {
    fill.push(tensor[c * plane + width - 1]);
    for (let y = 1; y < height; y++) {
      if (tensor[c * plane + y * width + width - 1] !== fill[c]) return width;
    }
  }
  for (let x = width - 1; x >= 0; x--) {
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < height; y++) {
        if (tensor[c * plane + y * width + x] !== fill[c]) return x + 1;
      }
    }
  }
  return 0;
}

/** Content columns rounded up to a multiple of WIDTH_STEP, within [minWidth, maxWidth]. */
export function inputWidth(content, minWidth, maxWidth) {
  const stepped = Math.ceil(content / WIDTH_STEP) * WIDTH_STEP;
  return Math.min(maxWidth, Math.max(minWidth, stepped));
}

/**
 * The (C, H, W) tensor the model reads and its width: a dynamic-width model reads the
 * full-width tensor of toTensor cut after its content (data/preprocess.py input_widths).
 */
export function modelInput(tensor, spec) {
  const { channels, height, width } = spec;
  if (!spec.dynamic_width) return { data: tensor, width };
  const minWidth = Math.min(spec.min_width, width);
  const cut = inputWidth(contentWidth(tensor, channels, height, width), minWidth, width);
  const data = new Float32Array(channels * height * cut);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const from = (c * height + y) * width;
      data.set(tensor.subarray(from, from + cut), (c * height + y) * cut);
    }
  }
  return { data, width: cut };
}

export const CROP_CONTRAST = 40; // grey levels from the background that count as ink

/**
 * [top, bottom, left, right] (end-exclusive) of the text in (H, W) luma, with a margin of a
 * quarter of its height (data/resize.py text_box); all of the image inside its edge bars when
 * it has no ink. Bars along the edges (letterboxing, frames) are cut first (barBox). The rows
 * are the run of text around the inkiest row; the columns count only the ink inside those
 * rows, so dots scattered over the canvas do not widen the box.
 */
export function textBox(luma, width, height) {
  const [top, bottom, left, right] = barBox(luma, width, height);
  const innerW = right - left;
  const inner = new Uint8Array((bottom - top) * innerW);
  for (let y = top; y < bottom; y++) {
    inner.set(luma.subarray(y * width + left, y * width + right), (y - top) * innerW);
  }
  const box = inkBox(inner, innerW, bottom - top);
  return [box[0] + top, box[1] + top, box[2] + left, box[3] + left];
}

/** [top, bottom, left, right]: the image without the uniform bars along its edges. */
export function barBox(luma, width, height) {
  const row = (y) => luma.subarray(y * width, (y + 1) * width);
  const top = barLength((i) => row(i), height);
  const bottom = height - barLength((i) => row(height - 1 - i), height - top);
  const column = (x) => {
    const line = new Uint8Array(bottom - top);
    for (let y = top; y < bottom; y++) line[y - top] = luma[y * width + x];
    return line;
  };
  const left = barLength((i) => column(i), width);
  const right = width - barLength((i) => column(width - 1 - i), width - left);
  return [top, bottom, left, right];
}

/** The median of `line` when at least 90% of it lies within CROP_CONTRAST of it, else null. */
function uniformLevel(line) {
  const sorted = Array.from(line).sort((a, b) => a - b);
  const level = sorted[Math.floor((sorted.length - 1) / 2)];
  let near = 0;
  for (const value of line) if (Math.abs(value - level) < CROP_CONTRAST) near++;
  return near * 10 >= line.length * 9 ? level : null;
}

/** How many of the leading `count` lines (line(i)) form a bar, as data/resize.py _bar_length. */
function barLength(line, count) {
  if (count < 1) return 0;
  const level = uniformLevel(line(0));
  if (level === null) return 0;
  for (let i = 1; i <= Math.floor(count / 2); i++) {
    const other = uniformLevel(line(i));
    if (other === null) return 0;
    if (Math.abs(other - level) >= CROP_CONTRAST) return i;
  }
  return 0;
}

/** textBox inside the bars: the text's box with its margin, or all of `luma`. */
function inkBox(luma, width, height) {
  const ring = [];
  for (let x = 0; x < width; x++) ring.push(luma[x], luma[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) ring.push(luma[y * width], luma[y * width + width - 1]);
  ring.sort((a, b) => a - b);
  const background = ring[Math.floor((ring.length - 1) / 2)];
  const ink = new Uint8Array(width * height);
  const rows = new Array(height).fill(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs(luma[y * width + x] - background) >= CROP_CONTRAST) {
        ink[y * width + x] = 1;
        rows[y]++;
      }
    }
  }
  if (Math.max(...rows) === 0) return [0, height, 0, width];
  const [top, bottom] = inkSpan(rows, Math.max(2, Math.floor(height / 20)));
  const cols = new Array(width).fill(0);
  for (let y = top; y < bottom; y++) {
    for (let x = 0; x < width; x++) cols[x] += ink[y * width + x];
  }
  const [left, right] = inkSpan(cols, Math.max(2, bottom - top));
  const margin = Math.max(2, Math.floor((bottom - top) / 4));
  return [
    Math.max(0, top - margin),
    Math.min(height, bottom + margin),
    Math.max(0, left - margin),
    Math.min(width, right + margin),
  ];
}

/**
 * [start, end): the run of core lines (a tenth of the peak's ink) around the first peak, with
 * at most `gap` other lines between neighbouring core lines, grown while the next line holds
 * a fiftieth of the peak.
 */
function inkSpan(counts, gap) {
  const peak = Math.max(...counts);
  const centre = counts.indexOf(peak);
  const isCore = (i) => counts[i] * 10 >= peak;
  let start = centre;
  for (let i = centre - 1; i >= 0 && start - i <= gap + 1; i--) if (isCore(i)) start = i;
  let end = centre;
  for (let i = centre + 1; i < counts.length && i - end <= gap + 1; i++) if (isCore(i)) end = i;
  end += 1;
  while (start > 0 && counts[start - 1] * 50 >= peak) start--;
  while (end < counts.length && counts[end] * 50 >= peak) end++;
  return [start, end];
}

/** (H, W, C) pixels -> the rows top..bottom and columns left..right of them. */
function cropPixels(pixels, width, channels, top, bottom, left, right) {
  const cropW = right - left;
  const out = new pixels.constructor((bottom - top) * cropW * channels);
  for (let y = top; y < bottom; y++) {
    const from = (y * width + left) * channels;
    out.set(pixels.subarray(from, from + cropW * channels), (y - top) * cropW * channels);
  }
  return out;
}
