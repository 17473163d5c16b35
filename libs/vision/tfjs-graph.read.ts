import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WalkoutError } from '../contracts/index.ts';

/**
 * A TF.js graph model as its files say it (model.json and weight shards), read without TF.js: the
 * nodes of the graph, and every weight as plain numbers. The ONNX converter (tfjs-onnx.convert.ts)
 * works from this.
 */

export type TfDtype = 'float32' | 'int32' | 'bool' | 'int64';

/** A node of model.json's modelTopology: its op, its inputs ("name", "name:1", "^control") and attributes. */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

/** An attribute as TF.js JSON writes it: one of these keys is set; numbers of int fields come as strings. */
export interface TfAttr {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  list?: { i?: Array<string | number>; s?: string[]; f?: number[]; type?: string[] };
  shape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean };
  tensor?: unknown;
}

/** A weight, decoded: `values` are what the model computes with; `float16` keeps the bits it was stored in. */
export interface TfWeight {
  dtype: TfDtype;
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
  /** Set when the shard held the weight as IEEE half floats (TF.js float16 quantisation): the exact stored bits. */
  float16?: Uint16Array;
}

export interface TfGraphModel {
  nodes: TfNode[];
  weights: Map<string, TfWeight>;
  /** The signature's inputs and outputs: key (e.g. "output_0"), the node output it names, its dtype and shape (-1 where free). */
  inputs: TfSignatureEntry[];
  outputs: TfSignatureEntry[];
}

export interface TfSignatureEntry {
  key: string;
  tensor: string;
  dtype?: TfDtype;
  shape?: number[];
}

interface SignatureJson {
  name: string;
  dtype?: string;
  tensorShape?: { dim?: Array<{ size?: string | number }> };
}

/** TF's DT_FLOAT and friends, as TF.js names them. */
export function tfDtypeOf(dt: string | undefined): TfDtype | undefined {
  return ({ DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_INT64: 'int64' } as Record<string, TfDtype>)[dt ?? ''];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

interface ModelJson {
  modelTopology?: { node?: TfNode[] };
  weightsManifest?: Array<{ paths: string[]; weights: WeightSpec[] }>;
  signature?: {
    inputs?: Record<string, SignatureJson>;
    outputs?: Record<string, SignatureJson>;
  };
}

export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfGraphModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `cannot read model ${modelJsonPath}: ${(cause as Error).message}`, { cause });
  }
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new WalkoutError('MODEL_UNAVAILABLE', `${modelJsonPath} is not a TF.js graph model: it has no modelTopology.node`);
  const dir = path.dirname(modelJsonPath);
  const weights = new Map<string, TfWeight>();
  for (const group of json.weightsManifest ?? []) {
    const shards: Uint8Array[] = [];
    for (const shard of group.paths) {
      try {
        shards.push(await readFile(path.join(dir, shard)));
      } catch (cause) {
        throw new WalkoutError('MODEL_UNAVAILABLE', `cannot read weights ${shard} of ${modelJsonPath}: ${(cause as Error).message}`, { cause });
      }
    }
    decodeWeights(concatBytes(shards), group.weights, modelJsonPath, weights);
  }
  const signatureEntries = (entries: Record<string, SignatureJson> | undefined): TfSignatureEntry[] =>
    Object.entries(entries ?? {})
      .map(([key, value]) => ({
        key,
        tensor: value.name,
        dtype: tfDtypeOf(value.dtype),
        shape: value.tensorShape?.dim?.map((d) => Number(d.size ?? -1)),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let inputs = signatureEntries(json.signature?.inputs);
  let outputs = signatureEntries(json.signature?.outputs);
  if (inputs.length === 0) inputs = nodes.filter((n) => n.op === 'Placeholder').map((n) => ({ key: n.name, tensor: n.name }));
  if (outputs.length === 0) throw new WalkoutError('MODEL_UNAVAILABLE', `${modelJsonPath} has no signature outputs: the converter cannot tell what the model returns`);
  return { nodes, weights, inputs, outputs };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return all;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

/** Weights laid end to end in the shards of one group, each `size x bytes` long, in the order listed. */
function decodeWeights(bytes: Uint8Array, specs: WeightSpec[], where: string, into: Map<string, TfWeight>): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((n, d) => n * d, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES_PER_ELEMENT[stored];
    if (!width || !['float32', 'int32', 'bool'].includes(spec.dtype))
      throw new WalkoutError('MODEL_UNAVAILABLE', `weight ${spec.name} of ${where} is ${spec.dtype} stored as ${stored}: not a kind the converter reads`);
    if (offset + size * width > bytes.byteLength)
      throw new WalkoutError('MODEL_UNAVAILABLE', `weight ${spec.name} of ${where} runs past the end of its shards (${bytes.byteLength} bytes)`);
    into.set(spec.name, decodeWeight(view, offset, size, spec));
    offset += size * width;
  }
}

function decodeWeight(view: DataView, offset: number, size: number, spec: WeightSpec): TfWeight {
  const shape = spec.shape.slice();
  const quantization = spec.quantization;
  if (quantization?.dtype === 'float16') {
    const float16 = new Uint16Array(size);
    const values = new Float32Array(size);
    for (let k = 0; k < size; k++) {
      float16[k] = view.getUint16(offset + k * 2, true);
      values[k] = halfToFloat(float16[k]);
    }
    return { dtype: 'float32', shape, values, float16 };
  }
  if (quantization) {
    // Affine quantisation: stored integer q means min + q * scale.
    const min = quantization.min ?? 0;
    const scale = quantization.scale ?? 1;
    const wide = quantization.dtype === 'uint16';
    const values = spec.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    for (let k = 0; k < size; k++) {
      const q = wide ? view.getUint16(offset + k * 2, true) : view.getUint8(offset + k);
      values[k] = spec.dtype === 'int32' ? Math.round(min + q * scale) : min + q * scale;
    }
    return { dtype: spec.dtype as TfDtype, shape, values };
  }
  if (spec.dtype === 'float32') {
    const values = new Float32Array(size);
    for (let k = 0; k < size; k++) values[k] = view.getFloat32(offset + k * 4, true);
    return { dtype: 'float32', shape, values };
  }
  if (spec.dtype === 'int32') {
    const values = new Int32Array(size);
    for (let k = 0; k < size; k++) values[k] = view.getInt32(offset + k * 4, true);
    return { dtype: 'int32', shape, values };
  }
  const values = new Uint8Array(size);
  for (let k = 0; k < size; k++) values[k] = view.getUint8(offset + k) ? 1 : 0;
  return { dtype: 'bool', shape, values };
}

/** IEEE 754 half (binary16) bits to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
