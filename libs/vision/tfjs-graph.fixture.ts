import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TfAttr, TfNode } from './tfjs-graph.read.ts';
import { readTfjsGraphModel } from './tfjs-graph.read.ts';
import { convertTfjsGraphToOnnx, type OnnxLayout } from './tfjs-onnx.convert.ts';
import { loadGraphModelFromFile, loadTfRuntime } from './tfjs.runtime.ts';

/**
 * Tiny TF.js graph models written by tests, run on both TF.js (WebAssembly) and ONNX Runtime after
 * conversion, for the converter's per-op tests.
 */

export type TinyDtype = 'float32' | 'int32' | 'bool';

export interface TinyTensor {
  dtype: TinyDtype;
  shape: number[];
  values: number[];
}

/** Deterministic values in [-1, 1) (a linear congruential sequence), so a wrong layout shows. */
export function noise(shape: number[], seed = 1): TinyTensor {
  const size = shape.reduce((n, d) => n * d, 1);
  let state = seed;
  const values = Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31) * 2 - 1;
  });
  return { dtype: 'float32', shape, values };
}

/** TF.js JSON attribute builders. */
export const attr = {
  i: (value: number): TfAttr => ({ i: String(value) }),
  ints: (values: number[]): TfAttr => ({ list: { i: values.map(String) } }),
  s: (value: string): TfAttr => ({ s: Buffer.from(value).toString('base64') }),
  strings: (values: string[]): TfAttr => ({ list: { s: values.map((v) => Buffer.from(v).toString('base64')) } }),
  b: (value: boolean): TfAttr => ({ b: value }),
  f: (value: number): TfAttr => ({ f: value }),
  type: (dtype: TinyDtype): TfAttr => ({ type: { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' }[dtype] }),
};

export interface TinyGraph {
  inputs: Array<{ name: string; dtype: TinyDtype; shape: number[] }>;
  /** Weights become Const nodes of the same name. */
  constants: Record<string, TinyTensor>;
  nodes: TfNode[];
  outputs: string[];
  /** Store float32 weights quantised as TF.js does: float16, or uint8 with a min and a scale. */
  quantise?: 'float16' | 'uint8';
}

/** IEEE 754 binary16 bits of a number (round to nearest even; tests use normal values). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign;
  if (exponent >= 0x1f) return sign | 0x7c00;
  const rounded = mantissa & 0x1fff;
  mantissa >>= 13;
  let half = sign | (exponent << 10) | mantissa;
  if (rounded > 0x1000 || (rounded === 0x1000 && (mantissa & 1))) half++;
  return half;
}

/** Writes model.json and one weight shard into a fresh temporary folder; returns model.json's path. */
export async function writeTinyGraph(graph: TinyGraph): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-tiny-graph-'));
  const chunks: Buffer[] = [];
  const weights = Object.entries(graph.constants).map(([name, tensor]) => {
    const spec = { name, shape: tensor.shape, dtype: tensor.dtype };
    if (tensor.dtype === 'float32' && graph.quantise === 'float16') {
      chunks.push(Buffer.from(Uint16Array.from(tensor.values, floatToHalf).buffer));
      return { ...spec, quantization: { dtype: 'float16', original_dtype: 'float32' } };
    }
    if (tensor.dtype === 'float32' && graph.quantise === 'uint8') {
      const min = Math.min(...tensor.values);
      const scale = (Math.max(...tensor.values) - min) / 255 || 1;
      chunks.push(Buffer.from(Uint8Array.from(tensor.values, (v) => Math.round((v - min) / scale))));
      return { ...spec, quantization: { dtype: 'uint8', min, scale, original_dtype: 'float32' } };
    }
    if (tensor.dtype === 'float32') chunks.push(Buffer.from(Float32Array.from(tensor.values).buffer));
    else if (tensor.dtype === 'int32') chunks.push(Buffer.from(Int32Array.from(tensor.values).buffer));
    else chunks.push(Buffer.from(Uint8Array.from(tensor.values)));
    return spec;
  });
  const nodes: TfNode[] = [
    ...graph.inputs.map((input) => ({
      name: input.name,
      op: 'Placeholder',
      attr: { dtype: attr.type(input.dtype), shape: { shape: { dim: input.shape.map((size) => ({ size: String(size) })) } } as unknown as TfAttr },
    })),
    ...Object.entries(graph.constants).map(([name, tensor]) => ({ name, op: 'Const', attr: { dtype: attr.type(tensor.dtype), value: { tensor: {} } } })),
    ...graph.nodes,
  ];
  const signatureOf = (name: string) => ({ name: name.includes(':') ? name : `${name}:0` });
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'walkout tests',
    convertedBy: 'walkout tests',
    modelTopology: { node: nodes, library: {}, versions: {} },
    signature: {
      inputs: Object.fromEntries(graph.inputs.map((i) => [i.name, signatureOf(i.name)])),
      outputs: Object.fromEntries(graph.outputs.map((o, k) => [`output_${k}`, signatureOf(o)])),
    },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  await writeFile(path.join(dir, 'weights.bin'), Buffer.concat(chunks));
  return path.join(dir, 'model.json');
}

export interface BothRuns {
  tfjs: Array<{ shape: number[]; values: number[] }>;
  onnx: Array<{ shape: number[]; values: number[] }>;
}

/** The graph's outputs on TF.js (WebAssembly) and on ONNX Runtime after conversion, for the same feeds. */
export async function runBoth(graph: TinyGraph, feeds: Record<string, TinyTensor>, layout: OnnxLayout = 'nchw'): Promise<BothRuns> {
  const modelPath = await writeTinyGraph(graph);
  const { tf } = await loadTfRuntime('wasm');
  const model = await loadGraphModelFromFile(tf, modelPath);
  const tfFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [`${name}:0`, tf.tensor(t.values, t.shape, t.dtype)]));
  const tfOutputs = model.execute(tfFeeds, graph.outputs.map((o) => (o.includes(':') ? o : `${o}:0`)));
  const tfjs = await Promise.all(
    (Array.isArray(tfOutputs) ? tfOutputs : [tfOutputs]).map(async (t) => ({ shape: t.shape, values: Array.from(await t.data()) as number[] })),
  );
  tf.dispose([...Object.values(tfFeeds), ...(Array.isArray(tfOutputs) ? tfOutputs : [tfOutputs])]);
  model.dispose();

  const bytes = convertTfjsGraphToOnnx(await readTfjsGraphModel(modelPath), { name: 'tiny', layout });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const ortFeeds = Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(t.dtype, t.dtype === 'float32' ? Float32Array.from(t.values) : t.dtype === 'int32' ? Int32Array.from(t.values) : Uint8Array.from(t.values), t.shape)]),
  );
  const results = await session.run(ortFeeds);
  const onnx = graph.outputs.map((_, k) => {
    const t = results[`output_${k}`];
    return { shape: t.dims.map(Number), values: Array.from(t.data as ArrayLike<number | boolean>, Number) };
  });
  await session.release();
  return { tfjs, onnx };
}
