// Local mode: onnxruntime-web (WASM, bundled in the extension) runs the model in the browser.

import { decode } from "./decode.js";
import { modelMetadata } from "./metadata.js";
import { modelInput, toTensor } from "./preprocess.js";

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
   */
  async solve(rgba, width, height, hints = {}) {
    return this.solveTensor(this.tensor(rgba, width, height), hints);
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
