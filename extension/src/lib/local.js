// Local mode: onnxruntime-web (WASM, bundled in the extension) runs the model in the browser.

import { decode } from "./decode.js";
import { modelMetadata } from "./metadata.js";
import { flattenAlpha, modelInput, rgbToTensor, toTensor } from "./preprocess.js";
import { VIEWS } from "./views.js";

/** A loaded model: its ORT session and metadata. */
export class LocalModel {
  constructor(ort, session, metadata, name) {
    this.ort = ort;
    this.session = session;
    this.metadata = metadata;
    this.name = name;
  }

  /** @param ort the onnxruntime-web module; bytes: the .onnx file */
  static async load(ort, bytes, name = "model") {
    let metadata;
    let session;
    try {
      metadata = modelMetadata(bytes, name); // fails fast, before ORT sees the bytes
      session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    } catch (error) {
      throw new Error(`The model ${name} failed to load: ${error.message}`);
    }
    return new LocalModel(ort, session, metadata, name);
  }

  /** The (C, H, W) tensor for RGBA pixels. */
  tensor(rgba, width, height) {
    return toTensor(rgba, width, height, this.metadata.preprocessing);
  }

  /**
   * RGBA pixels -> {text, confidence, charProbs}.
   * @param {{caseInsensitive?: boolean, symbols?: string, length?: string}} hints the site's
   *   reading hints (decode.js); none: the model's own reading
   * @param {number|null} secondLook a confidence in (0, 1]: an answer below it is read again
   *   from each view of the image (views.js) and the most confident reading kept, the first
   *   one on ties, as Solver.with_second_look; null: read once
   */
  async solve(rgba, width, height, hints = {}, secondLook = null) {
    if (secondLook != null && !(secondLook > 0 && secondLook <= 1)) {
      throw new Error(`the second-look threshold is a confidence in (0, 1], got ${secondLook}`);
    }
    const rgb = flattenAlpha(rgba, width, height);
    const spec = this.metadata.preprocessing;
    let best = await this.solveTensor(rgbToTensor(rgb, width, height, spec), hints);
    if (secondLook == null || best.confidence >= secondLook) return best;
    for (const view of Object.values(VIEWS)) {
      const seen = view(rgb, width, height);
      const answer = await this.solveTensor(rgbToTensor(seen.pixels, seen.width, seen.height, spec), hints);
      if (answer.confidence > best.confidence) best = answer;
    }
    return best;
  }

  /** A full-width (C, H, W) tensor -> {text, confidence, charProbs}. */
  async solveTensor(tensor, hints = {}) {
    const spec = this.metadata.preprocessing;
    const { data, width } = modelInput(tensor, spec);
    const input = new this.ort.Tensor("float32", data, [1, spec.channels, spec.height, width]);
    const feeds = { [this.session.inputNames[0]]: input };
    const outputs = await this.session.run(feeds);
    const logits = outputs[this.session.outputNames[0]];
    const [, steps, classes] = logits.dims;
    return decode(logits.data, steps, classes, this.metadata, hints);
  }
}
