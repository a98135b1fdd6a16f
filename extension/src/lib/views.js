// Other views of one captcha for the second look, as src/captchalab/inference/views.py makes
// them with Pillow 13, byte for byte: a border, contrast stretched, a median filter, colours
// inverted, half and twice the size, a light blur. Each view takes RGB pixels (interleaved
// uint8, what flattenAlpha gives) and returns {pixels, width, height}, RGB; the model then
// reads a view through the one preprocessing path (preprocess.js rgbToTensor).
//
// Pillow's 8-bit resize (Resample.c: fixed-point taps of 22 bits, one pass per axis, each
// clipped to uint8) and its GaussianBlur (BoxBlur.c: three box blurs each way of a fractional
// radius, in 24-bit fixed point, edge pixels repeated) are not the float resize of
// preprocessing, so they are written out here. extension/test/views.test.mjs checks every view
// against Pillow's bytes (scripts/extension_fixtures.py).

import { BILINEAR, filterTaps, grayscale, medianFilter } from "./preprocess.js";

/** Below this calibrated confidence the second look reads the views (views.py). */
export const DEFAULT_SECOND_LOOK = 0.5;

/** A border of the corner's colour: a tenth of the width left and right, a fifth of the
 * height above and below (ImageOps.expand). */
export function pad(rgb, width, height) {
  const bx = Math.floor(width / 10);
  const by = Math.floor(height / 5);
  const outW = width + 2 * bx;
  const outH = height + 2 * by;
  const pixels = new Uint8Array(outW * outH * 3);
  for (let i = 0; i < outW * outH; i++) pixels.set(rgb.subarray(0, 3), i * 3);
  for (let y = 0; y < height; y++) {
    pixels.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((y + by) * outW + bx) * 3);
  }
  return { pixels, width: outW, height: outH };
}

/** Grey levels stretched to the full range, 2% clipped at each end (ImageOps.autocontrast of
 * the luma, cutoff=2), as gray replicated to RGB. */
export function autocontrast(rgb, width, height) {
  const gray = grayscale(rgb, width, height);
  const lut = contrastTable(gray, 2);
  const pixels = new Uint8Array(gray.length * 3);
  for (let i = 0; i < gray.length; i++) pixels.fill(lut[gray[i]], i * 3, i * 3 + 3);
  return { pixels, width, height };
}

/** ImageOps.autocontrast's lookup table for one band: `cutoff` percent of the pixels cut
 * from each end of the histogram, the rest stretched over 0..255. */
function contrastTable(gray, cutoff) {
  const h = new Array(256).fill(0);
  for (const v of gray) h[v]++;
  const n = gray.length;
  cutEnd(h, Math.floor((n * cutoff) / 100), 1);
  cutEnd(h, Math.floor((n * cutoff) / 100), -1);
  let lo = 0;
  while (lo < 255 && !h[lo]) lo++;
  let hi = 255;
  while (hi > 0 && !h[hi]) hi--;
  if (hi <= lo) return Array.from({ length: 256 }, (_, i) => i);
  const scale = 255.0 / (hi - lo);
  const offset = -lo * scale;
  return Array.from({ length: 256 }, (_, i) => Math.min(255, Math.max(0, Math.trunc(i * scale + offset))));
}

/** Remove `cut` pixels from the low (step 1) or high (step -1) end of the histogram. */
function cutEnd(h, cut, step) {
  for (let i = step > 0 ? 0 : 255; i >= 0 && i < 256; i += step) {
    if (cut > h[i]) {
      cut -= h[i];
      h[i] = 0;
    } else {
      h[i] -= cut;
      cut = 0;
    }
    if (cut <= 0) break;
  }
}

/** A 3x3 median filter per channel over the edge-replicated image (MedianFilter(3)). */
export function median3(rgb, width, height) {
  return { pixels: medianFilter(rgb, width, height, 3, 3), width, height };
}

/** Colours inverted (ImageOps.invert). */
export function invert(rgb, width, height) {
  return { pixels: rgb.map((v) => 255 - v), width, height };
}

/** Half the size, at least 8 pixels a side, bilinear (Pillow's 8-bit resize). */
export function half(rgb, width, height) {
  return resample(rgb, width, height, Math.max(8, Math.floor(width / 2)), Math.max(8, Math.floor(height / 2)), BILINEAR);
}

/** Twice the size, bicubic (Pillow's 8-bit resize). */
export function double(rgb, width, height) {
  return resample(rgb, width, height, width * 2, height * 2, BICUBIC);
}

/** A Gaussian blur of radius 1 (GaussianBlur(1): three box blurs each way). */
export function blur(rgb, width, height) {
  return { pixels: gaussianBlur(rgb, width, height, 3, 1, 3), width, height };
}

/** The views in views.py's registration order: the order the second look reads them. */
export const VIEWS = Object.freeze({ pad, autocontrast, median3, invert, half, double, blur });

// --- Pillow's 8-bit resize (Resample.c) ---

const PRECISION_BITS = 32 - 8 - 2;

/** Resample.c's bicubic filter (a = -0.5): support radius and weight at a distance. */
export const BICUBIC = {
  support: 2.0,
  weight(x) {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
  },
};

/**
 * One axis's taps, as precompute_coeffs then normalize_coeffs_8bpc: for each output sample
 * the first input index and integer weights in units of 2^-22.
 * @returns {{start: number, weights: number[]}[]}
 */
export function fixedPointTaps(inSize, outSize, filter) {
  return filterTaps(inSize, outSize, filter).map(({ start, weights }) => ({
    start,
    weights: weights.map((w) => {
      const k = w * (1 << PRECISION_BITS);
      return Math.trunc(k < 0 ? k - 0.5 : k + 0.5);
    }),
  }));
}

/** A fixed-point sum -> uint8, as Resample.c's clip8. */
function clip8(sum) {
  if (sum >= 1 << (PRECISION_BITS + 8)) return 255;
  if (sum <= 0) return 0;
  return sum >> PRECISION_BITS;
}

/** One pass of the resize along x (horizontal) or y, RGB in and out. */
function resamplePass(rgb, width, height, outSize, filter, horizontal) {
  const taps = fixedPointTaps(horizontal ? width : height, outSize, filter);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const { start, weights } = taps[horizontal ? x : y];
      for (let c = 0; c < 3; c++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let k = 0; k < weights.length; k++) {
          const src = horizontal ? (y * width + start + k) * 3 + c : ((start + k) * width + x) * 3 + c;
          sum += rgb[src] * weights[k];
        }
        out[(y * outW + x) * 3 + c] = clip8(sum);
      }
    }
  }
  return out;
}

/**
 * RGB -> RGB of outW x outH, as ImagingResample on an 8-bit image: a pass along each axis
 * whose size changes, horizontal first unless the height shrinks by more than twice as many
 * pixels as the width (then vertical first, which Pillow 13 does to save work; the order
 * changes the bytes, as each pass rounds to uint8).
 */
export function resample(rgb, width, height, outW, outH, filter) {
  const shrink = height - outH;
  const verticalFirst = shrink > 0 && shrink > (width - outW) * 2;
  let pixels = rgb;
  let w = width;
  let h = height;
  const horizontal = () => {
    if (outW !== w) [pixels, w] = [resamplePass(pixels, w, h, outW, filter, true), outW];
  };
  const vertical = () => {
    if (outH !== h) [pixels, h] = [resamplePass(pixels, w, h, outH, filter, false), outH];
  };
  if (verticalFirst) {
    vertical();
    horizontal();
  } else {
    horizontal();
    vertical();
  }
  return { pixels: pixels === rgb ? rgb.slice() : pixels, width: outW, height: outH };
}

// --- Pillow's GaussianBlur (BoxBlur.c) ---

/** The box radius (integer part and fraction) whose `passes` box blurs approximate a Gaussian
 * of `radius`: BoxBlur.c _gaussian_blur_radius, in float32 as C computes it. */
export function boxRadius(radius, passes) {
  const f = Math.fround;
  const sigma2 = f(f(radius * radius) / passes);
  const length = f(Math.sqrt(12.0 * sigma2 + 1.0));
  const l = f(Math.floor((length - 1.0) / 2.0));
  let a = f(f(f(2 * l) + 1) * f(f(l * f(l + 1)) - f(3 * sigma2)));
  a = f(a / f(6 * f(sigma2 - f(f(l + 1) * f(l + 1)))));
  return f(l + a);
}

/** Pixels (channels interleaved) blurred `passes` times along x, then `passes` times along y,
 * by a box of fractional radius boxRadius(radius, passes), as ImagingGaussianBlur. */
export function gaussianBlur(pixels, width, height, channels, radius, passes) {
  const r = boxRadius(radius, passes);
  let out = pixels;
  for (let i = 0; i < passes; i++) {
    const next = new Uint8Array(pixels.length);
    for (let y = 0; y < height; y++) {
      for (let c = 0; c < channels; c++) boxBlurLine(out, next, y * width * channels + c, channels, width, r);
    }
    out = next;
  }
  for (let i = 0; i < passes; i++) {
    const next = new Uint8Array(pixels.length);
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) boxBlurLine(out, next, x * channels + c, width * channels, height, r);
    }
    out = next;
  }
  return out === pixels ? pixels.slice() : out;
}

/**
 * One line (`count` samples `stride` apart from `start`) of src box-blurred into dst, as
 * BoxBlur.c's ImagingLineBoxBlur: the whole pixels within the integer radius weigh `ww`, the
 * two beyond it `fw` (both in units of 2^-24), and the edge pixels repeat outside the line.
 */
function boxBlurLine(src, dst, start, stride, count, floatRadius) {
  const radius = Math.trunc(floatRadius);
  const ww = Math.trunc(Math.fround(16777216 / Math.fround(Math.fround(floatRadius * 2) + 1)));
  const fw = Math.floor((16777216 - (radius * 2 + 1) * ww) / 2);
  const edgeA = Math.min(radius + 1, count);
  const edgeB = Math.max(count - radius - 1, 0);
  const last = count - 1;
  const at = (i) => src[start + i * stride];
  // the window's sum for the pixel before the first: the first pixel repeated, then the line
  let acc = at(0) * (radius + 1);
  for (let x = 0; x < edgeA - 1; x++) acc += at(x);
  acc += at(last) * (radius - edgeA + 1);
  const step = (x, subtract, add, left, right) => {
    acc += at(add) - at(subtract);
    const bulk = acc * ww + (at(left) + at(right)) * fw;
    dst[start + x * stride] = Math.floor((bulk + (1 << 23)) / (1 << 24));
  };
  if (edgeA <= edgeB) {
    for (let x = 0; x < edgeA; x++) step(x, 0, x + radius, 0, x + radius + 1);
    for (let x = edgeA; x < edgeB; x++) step(x, x - radius - 1, x + radius, x - radius - 1, x + radius + 1);
    for (let x = edgeB; x <= last; x++) step(x, x - radius - 1, last, x - radius - 1, last);
  } else {
    for (let x = 0; x < edgeB; x++) step(x, 0, x + radius, 0, x + radius + 1);
    for (let x = edgeB; x < edgeA; x++) step(x, 0, last, 0, last);
    for (let x = edgeA; x <= last; x++) step(x, x - radius - 1, last, x - radius - 1, last);
  }
}
