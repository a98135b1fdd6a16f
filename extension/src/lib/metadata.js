// What a captchalab ONNX file says about itself: the JSON stored under the metadata_props key
// "captchalab" (see src/captchalab/inference/metadata.py). onnxruntime-web does not expose
// custom metadata, so this reads ModelProto's field 14 straight from the protobuf bytes.

import { DECODERS } from "./decode.js";

export const FORMAT = "captchalab-onnx/1";
export const METADATA_KEY = "captchalab";
const METADATA_PROPS = 14; // ModelProto.metadata_props: repeated StringStringEntryProto

function readVarint(bytes, offset) {
  let value = 0;
  let factor = 1;
  for (let i = 0; i < 10; i++) {
    if (offset >= bytes.length) throw new Error("truncated protobuf varint");
    const byte = bytes[offset++];
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, offset];
    factor *= 128;
  }
  throw new Error("protobuf varint too long");
}

/** Each top-level field of a protobuf message: [fieldNumber, wireType, valueOrBytes]. */
function* fields(bytes) {
  let offset = 0;
  while (offset < bytes.length) {
    let key;
    [key, offset] = readVarint(bytes, offset);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      let value;
      [value, offset] = readVarint(bytes, offset);
      yield [field, wire, value];
    } else if (wire === 1) {
      offset += 8;
    } else if (wire === 5) {
      offset += 4;
    } else if (wire === 2) {
      let length;
      [length, offset] = readVarint(bytes, offset);
      if (offset + length > bytes.length) throw new Error("truncated protobuf field");
      yield [field, wire, bytes.subarray(offset, offset + length)];
      offset += length;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

/** The ONNX file's metadata_props as a Map of key -> value. */
export function readMetadataProps(bytes) {
  const props = new Map();
  const text = new TextDecoder();
  for (const [field, wire, value] of fields(bytes)) {
    if (field !== METADATA_PROPS || wire !== 2) continue;
    let key = "";
    let entry = "";
    for (const [f, w, v] of fields(value)) {
      if (w !== 2) continue;
      if (f === 1) key = text.decode(v);
      if (f === 2) entry = text.decode(v);
    }
    props.set(key, entry);
  }
  return props;
}

/** Parse and check the captchalab metadata JSON; returns what the extension needs. */
export function parseMetadata(json, source = "model") {
  let data;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source} has invalid captchalab metadata: ${error.message}`);
  }
  if (data.format !== FORMAT) {
    throw new Error(`${source}: unsupported metadata format '${data.format}'; want ${FORMAT}`);
  }
  if (!DECODERS.includes(data.objective)) {
    throw new Error(`${source}: unknown objective '${data.objective}'`);
  }
  const spec = data.preprocessing || {};
  const preprocessing = {
    height: spec.height ?? 48,
    width: spec.width ?? 128,
    channels: spec.channels ?? 1,
    resize: spec.resize ?? "stretch",
    median_filter: spec.median_filter ?? 0,
    dynamic_width: spec.dynamic_width ?? false,
    min_width: spec.min_width ?? 64,
    crop_text: spec.crop_text ?? false,
  };
  if (![1, 3].includes(preprocessing.channels)) throw new Error(`${source}: channels must be 1 or 3`);
  if (!["stretch", "pad"].includes(preprocessing.resize)) throw new Error(`${source}: bad resize`);
  if (preprocessing.dynamic_width && preprocessing.resize !== "pad") {
    throw new Error(`${source}: dynamic_width needs resize 'pad'`);
  }
  const caseSensitive = data.charset?.case_sensitive ?? true;
  const symbols = caseSensitive ? data.charset.symbols : data.charset.symbols.toLowerCase();
  const temperature = Number(data.calibration?.temperature ?? 1.0);
  if (!(temperature > 0)) throw new Error(`${source}: calibration temperature must be positive`);
  return {
    modelName: String(data.model_name),
    objective: data.objective,
    charset: { symbols, caseSensitive },
    maxLength: Number(data.max_length),
    preprocessing,
    temperature,
  };
}

/** ONNX bytes -> parsed captchalab metadata; a clear error for files without it. */
export function modelMetadata(bytes, source = "model") {
  let props;
  try {
    props = readMetadataProps(bytes);
  } catch (error) {
    throw new Error(`${source} is not a captchalab model: it cannot be read as ONNX (${error.message})`);
  }
  if (!props.has(METADATA_KEY)) {
    throw new Error(`${source} is not a captchalab model (no '${METADATA_KEY}' metadata); export it with \`captchalab export\``);
  }
  return parseMetadata(props.get(METADATA_KEY), source);
}
