// Selection rectangles (CSS pixels of the viewport) -> pixel rectangles of a capture.

/** The smallest selection, in CSS pixels, worth reading. */
export const MIN_SELECTION = 8;

/**
 * Capture pixels per CSS pixel. captureVisibleTab returns the viewport at device resolution
 * under some zoom and HiDPI settings and in CSS pixels under others, so the factor is measured
 * from the capture itself, never taken from devicePixelRatio.
 */
export function captureScale(bitmapWidth, viewportWidth) {
  if (!(viewportWidth > 0)) throw new Error("the page reported no viewport width");
  return bitmapWidth / viewportWidth;
}

/** A dragged rectangle from any corner -> {x, y, width, height} with positive sizes. */
export function normalizeRect(x0, y0, x1, y1) {
  return { x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0) };
}

/**
 * The capture's pixel rectangle for a CSS-pixel selection: scaled, rounded outwards, clipped
 * to the capture. Throws NothingSelected / TooSmall errors the toast can show as they are.
 */
export function cropRect(selection, scale, bitmapWidth, bitmapHeight) {
  if (!selection || !(selection.width > 0) || !(selection.height > 0)) {
    throw new Error("Nothing selected: drag a rectangle around the captcha.");
  }
  if (selection.width < MIN_SELECTION || selection.height < MIN_SELECTION) {
    throw new Error(`The selection is too small (${Math.round(selection.width)}x${Math.round(selection.height)} px); drag around the whole captcha.`);
  }
  const left = Math.max(0, Math.floor(selection.x * scale));
  const top = Math.max(0, Math.floor(selection.y * scale));
  const right = Math.min(bitmapWidth, Math.ceil((selection.x + selection.width) * scale));
  const bottom = Math.min(bitmapHeight, Math.ceil((selection.y + selection.height) * scale));
  if (right - left < MIN_SELECTION || bottom - top < MIN_SELECTION) {
    throw new Error("The selection is outside the visible page or too small; scroll the captcha into view.");
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Copy a rectangle out of RGBA pixels. */
export function cropPixels(rgba, width, rect) {
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    const start = ((rect.y + y) * width + rect.x) * 4;
    out.set(rgba.subarray(start, start + rect.width * 4), y * rect.width * 4);
  }
  return out;
}

/** Channel difference up to which a pixel counts as the page background around a selection. */
export const BACKGROUND_TOLERANCE = 24;

/**
 * The rectangle left after peeling off uniform lines (every pixel within ``tolerance`` of the
 * top-left pixel) from each side: a dragged selection includes page background around the
 * captcha, and the default model reads a margin of page background badly (49% exact on `mix`
 * with a 6 px white frame against 66% without; 65% after this trim). Keeps at least
 * MIN_SELECTION pixels each way.
 */
export function trimUniformBorder(rgba, width, height, tolerance = BACKGROUND_TOLERANCE) {
  const ref = [rgba[0], rgba[1], rgba[2]];
  const near = (i) =>
    Math.abs(rgba[i] - ref[0]) <= tolerance &&
    Math.abs(rgba[i + 1] - ref[1]) <= tolerance &&
    Math.abs(rgba[i + 2] - ref[2]) <= tolerance;
  const rowUniform = (y, x0, x1) => {
    for (let x = x0; x < x1; x++) if (!near((y * width + x) * 4)) return false;
    return true;
  };
  const columnUniform = (x, y0, y1) => {
    for (let y = y0; y < y1; y++) if (!near((y * width + x) * 4)) return false;
    return true;
  };
  let top = 0;
  let bottom = height;
  let left = 0;
  let right = width;
  while (bottom - top > MIN_SELECTION && rowUniform(top, left, right)) top++;
  while (bottom - top > MIN_SELECTION && rowUniform(bottom - 1, left, right)) bottom--;
  while (right - left > MIN_SELECTION && columnUniform(left, top, bottom)) left++;
  while (right - left > MIN_SELECTION && columnUniform(right - 1, top, bottom)) right--;
  return { x: left, y: top, width: right - left, height: bottom - top };
}
