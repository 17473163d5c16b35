import onnxProto from 'onnx-proto';
import { WalkoutError } from '../contracts/index.ts';
import { tfDtypeOf, type TfAttr, type TfDtype, type TfGraphModel, type TfNode, type TfWeight } from './tfjs-graph.read.ts';

/**
 * TF.js graph model to ONNX, op by op, in TypeScript (no Python converter can be installed here).
 *
 * - Every op of the graph that the outputs need is translated into standard ONNX ops (opset 13);
 *   an op not in `TRANSLATORS`, or one with attributes we do not translate, is refused by name: the
 *   error lists every such op with the nodes that use it, before anything is written.
 * - TF.js works in NHWC, ONNX convolutions and pools in NCHW. Each convolution, pool and resize is
 *   wrapped in transposes (shared between consumers of one tensor), and the transposes that meet
 *   across element-wise ops are cancelled by `cancelTransposes` (layout 'nchw', the default).
 * - Shapes stay symbolic: TF's shape arithmetic (Shape, StridedSlice, Pack, ...) is translated too,
 *   so one .onnx file serves every input size the TF.js graph serves. Sub-graphs of constants are
 *   left for ONNX Runtime, which folds them when it loads the model.
 * - Weights stored as half floats stay half floats in the file (exact bits, half the bytes), with a
 *   Cast to float32 that ONNX Runtime folds at load.
 */

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

export const ONNX_OPSET = 13;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export type OnnxLayout = 'nchw' | 'per-op';

export interface OnnxConvertOptions {
  /** The graph's name inside the file. */
  name: string;
  /**
   * 'nchw' (default): transposes round each convolution, then those that cancel across element-wise
   * ops removed, so the backbone runs NCHW end to end. 'per-op': keep a transpose pair round every
   * convolution (for comparison).
   */
  layout?: OnnxLayout;
  /** Dims to write for a graph input, by signature key: a number fixes it, a string names it. Default: the signature's, free dims named. */
  inputDims?: Record<string, Array<number | string>>;
}

/** Why a node cannot be translated. Collected for every node, then reported at once. */
class Refusal extends Error {}

/** A node that reads a refused node's output: not reported again, the refusal upstream says why. */
class ReadsRefused extends Error {}

const ONNX_TYPE: Record<TfDtype, number> = { float32: DataType.FLOAT, int32: DataType.INT32, bool: DataType.BOOL, int64: DataType.INT64 };

function attrInt(name: string, i: number): AttributeProto {
  return { name, type: AttrType.INT, i };
}
function attrInts(name: string, ints: number[]): AttributeProto {
  return { name, type: AttrType.INTS, ints };
}
function attrFloat(name: string, f: number): AttributeProto {
  return { name, type: AttrType.FLOAT, f };
}
function attrString(name: string, s: string): AttributeProto {
  return { name, type: AttrType.STRING, s: new TextEncoder().encode(s) };
}
function attrTensor(name: string, t: TensorProto): AttributeProto {
  return { name, type: AttrType.TENSOR, t };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function tensorProto(name: string, dataType: number, dims: number[], raw: Uint8Array): TensorProto {
  return { name, dataType, dims, rawData: raw };
}

/** A TF attribute read with the type its op expects; a missing one is a refusal naming it. */
class NodeView {
  constructor(readonly node: TfNode) {}
  get name() {
    return this.node.name;
  }
  get inputs(): string[] {
    return (this.node.input ?? []).filter((i) => !i.startsWith('^'));
  }
  private attr(key: string): TfAttr | undefined {
    return this.node.attr?.[key];
  }
  int(key: string, fallback?: number): number {
    const a = this.attr(key);
    if (a?.i !== undefined) return Number(a.i);
    if (fallback !== undefined) return fallback;
    throw new Refusal(`has no attribute ${key}`);
  }
  ints(key: string, fallback?: number[]): number[] {
    const a = this.attr(key);
    if (a?.list) return (a.list.i ?? []).map(Number);
    if (fallback !== undefined) return fallback;
    throw new Refusal(`has no attribute ${key}`);
  }
  float(key: string, fallback: number): number {
    return this.attr(key)?.f ?? fallback;
  }
  bool(key: string, fallback: boolean): boolean {
    return this.attr(key)?.b ?? fallback;
  }
  string(key: string, fallback?: string): string {
    const s = this.attr(key)?.s;
    if (s !== undefined) return Buffer.from(s, 'base64').toString('utf8');
    if (fallback !== undefined) return fallback;
    throw new Refusal(`has no attribute ${key}`);
  }
  strings(key: string): string[] {
    return (this.attr(key)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }
  dtype(key: string): TfDtype {
    const t = tfDtypeOf(this.attr(key)?.type);
    if (!t) throw new Refusal(`has ${key} ${this.attr(key)?.type ?? '(none)'}, not float32, int32, int64 or bool`);
    return t;
  }
}

/** The ONNX graph being written, and the map from TF tensor names ("node", "node:1") to its values. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly values = new Map<string, string>();
  private readonly constants = new Map<string, TfWeight>();
  private readonly emittedConstants = new Map<string, string>();
  private readonly used = new Set<string>();
  private readonly transposes = new Map<string, string>();
  /** Nodes refused, or skipped because they read one. */
  readonly refused = new Set<string>();

  constructor(model: TfGraphModel, nodes: TfNode[]) {
    for (const node of nodes)
      if (node.op === 'Const') {
        const weight = model.weights.get(node.name);
        if (weight) this.constants.set(node.name, weight);
      }
  }

  /** A fresh value name derived from `hint`, unique in the graph. */
  fresh(hint: string): string {
    let name = hint;
    for (let k = 1; this.used.has(name); k++) name = `${hint}_${k}`;
    this.used.add(name);
    return name;
  }

  add(op: string, inputs: string[], attributes: AttributeProto[], outputHints: string[]): string[] {
    const output = outputHints.map((h) => this.fresh(h));
    this.nodes.push({ opType: op, name: output[0], input: inputs, output, attribute: attributes });
    return output;
  }

  one(op: string, inputs: string[], attributes: AttributeProto[], hint: string): string {
    return this.add(op, inputs, attributes, [hint])[0];
  }

  bind(tfTensor: string, value: string) {
    this.values.set(tfTensor, value);
    this.used.add(value);
  }

  /** The constant a TF tensor names, or undefined when it is computed. */
  constantOf(tfTensor: string): TfWeight | undefined {
    return this.constants.get(canonical(tfTensor).replace(/:0$/, ''));
  }

  /** The ONNX value for a TF tensor; constants become initializers the first time they are used. */
  value(tfTensor: string): string {
    const key = canonical(tfTensor);
    const bound = this.values.get(key);
    if (bound) return bound;
    const constant = this.constantOf(key);
    if (constant) return this.constantValue(key.replace(/:0$/, ''), constant);
    if (this.refused.has(key.replace(/:\d+$/, ''))) throw new ReadsRefused();
    throw new Refusal(`reads ${tfTensor}, which no translated node produces`);
  }

  constantValue(hint: string, weight: TfWeight): string {
    const cached = this.emittedConstants.get(hint);
    if (cached) return cached;
    let name: string;
    if (weight.float16) {
      const half = this.initializer(`${hint}/float16`, DataType.FLOAT16, weight.shape, bytesOf(weight.float16));
      name = this.one('Cast', [half], [attrInt('to', DataType.FLOAT)], hint);
    } else name = this.initializer(hint, ONNX_TYPE[weight.dtype], weight.shape, bytesOf(weight.values));
    this.emittedConstants.set(hint, name);
    return name;
  }

  initializer(hint: string, dataType: number, dims: number[], raw: Uint8Array): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, dataType, dims, raw));
    return name;
  }

  int64(hint: string, values: Array<number | bigint>, dims: number[] = [values.length]): string {
    return this.initializer(hint, DataType.INT64, dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
  }

  float(hint: string, value: number): string {
    return this.initializer(hint, DataType.FLOAT, [], bytesOf(Float32Array.of(value)));
  }

  /** A TF int32 tensor as the int64 ONNX wants for shapes, axes and indices (a constant is written as int64). */
  int64Of(tfTensor: string, hint: string): string {
    const constant = this.constantOf(tfTensor);
    if (constant && constant.dtype !== 'float32') return this.int64(hint, Array.from(constant.values), constant.shape);
    return this.one('Cast', [this.value(tfTensor)], [attrInt('to', DataType.INT64)], hint);
  }

  /** NHWC to NCHW (or back), once per tensor: two convolutions reading one tensor share it. */
  transpose(value: string, to: 'nchw' | 'nhwc'): string {
    const key = `${value}->${to}`;
    const cached = this.transposes.get(key);
    if (cached) return cached;
    const out = this.one('Transpose', [value], [attrInts('perm', to === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1])], `${value}/${to}`);
    this.transposes.set(key, out);
    this.transposes.set(`${out}->${to === 'nchw' ? 'nhwc' : 'nchw'}`, value);
    return out;
  }
}

function canonical(tfTensor: string): string {
  return /:\d+$/.test(tfTensor) ? tfTensor : `${tfTensor}:0`;
}

type Translator = (node: NodeView, out: Emitter) => string[];

/** The constant values of input `k`, or a refusal: ONNX needs these as attributes or fixed lists. */
function constantInput(node: NodeView, out: Emitter, k: number, what: string): TfWeight {
  const weight = out.constantOf(node.inputs[k]);
  if (!weight) throw new Refusal(`needs a constant ${what} (input ${k}, ${node.inputs[k]})`);
  return weight;
}

function constantInts(node: NodeView, out: Emitter, k: number, what: string): number[] {
  return Array.from(constantInput(node, out, k, what).values);
}

const unary =
  (op: string, attributes: AttributeProto[] = []): Translator =>
  (node, out) => [out.one(op, [out.value(node.inputs[0])], attributes, node.name)];

const binary =
  (op: string): Translator =>
  (node, out) => [out.one(op, [out.value(node.inputs[0]), out.value(node.inputs[1])], [], node.name)];

function clip(out: Emitter, x: string, min: number, max: number, hint: string): string {
  return out.one('Clip', [x, out.float(`${hint}/min`, min), out.float(`${hint}/max`, max)], [], hint);
}

/** The activation a fused TF.js op applies after its bias. */
function activation(node: NodeView, out: Emitter, x: string, fusedOps: string[]): string {
  const rest = fusedOps.slice(1);
  if (fusedOps[0] !== 'BiasAdd' || rest.length > 1) throw new Refusal(`fuses ${fusedOps.join('+')}, not BiasAdd with at most one activation`);
  switch (rest[0]) {
    case undefined:
      return x;
    case 'Relu':
      return out.one('Relu', [x], [], `${node.name}/relu`);
    case 'Relu6':
      return clip(out, x, 0, 6, `${node.name}/relu6`);
    case 'Sigmoid':
      return out.one('Sigmoid', [x], [], `${node.name}/sigmoid`);
    case 'LeakyRelu':
      return out.one('LeakyRelu', [x], [attrFloat('alpha', node.float('leakyrelu_alpha', 0.2))], `${node.name}/leakyrelu`);
    default:
      throw new Refusal(`fuses the activation ${rest[0]}, which the converter does not translate`);
  }
}

/** Padding and strides of an NHWC conv or pool as ONNX attributes for its two spatial axes. */
function spatialAttributes(node: NodeView): AttributeProto[] {
  if (node.string('data_format', 'NHWC') !== 'NHWC') throw new Refusal(`has data_format ${node.string('data_format')}, only NHWC is translated`);
  const strides = node.ints('strides', [1, 1, 1, 1]);
  const attributes = [attrInts('strides', [strides[1], strides[2]])];
  const padding = node.string('padding');
  if (padding === 'SAME') attributes.push(attrString('auto_pad', 'SAME_UPPER'));
  else if (padding === 'VALID') attributes.push(attrString('auto_pad', 'VALID'));
  else if (padding === 'EXPLICIT') {
    const p = node.ints('explicit_paddings');
    attributes.push(attrInts('pads', [p[2], p[4], p[3], p[5]]));
  } else throw new Refusal(`has padding ${padding}`);
  return attributes;
}

/** A constant re-laid out: element at `from(index in the new layout)` of the old. */
function permuteConstant(weight: TfWeight, shape: number[], sourceIndex: (target: number[]) => number): TfWeight {
  const size = shape.reduce((n, d) => n * d, 1);
  const values = new (weight.values.constructor as Float32ArrayConstructor)(size);
  const float16 = weight.float16 ? new Uint16Array(size) : undefined;
  const index = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < size; k++) {
    const from = sourceIndex(index);
    values[k] = weight.values[from];
    if (float16) float16[k] = weight.float16![from];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { dtype: weight.dtype, shape, values, float16 };
}

function conv(depthwise: boolean): Translator {
  return (node, out) => {
    const filter = constantInput(node, out, 1, 'filter');
    const [kh, kw, cin, cout] = filter.shape;
    const dilations = node.ints('dilations', [1, 1, 1, 1]);
    const fusedOps = node.strings('fused_ops');
    // ONNX weights are [out, in/group, kh, kw]; TF's conv filter is [kh, kw, in, out] and the depthwise
    // filter [kh, kw, in, multiplier], whose output channel c * multiplier + m reads input channel c.
    const weight = depthwise
      ? permuteConstant(filter, [cin * cout, 1, kh, kw], ([o, , y, x]) => ((y * kw + x) * cin + Math.floor(o / cout)) * cout + (o % cout))
      : permuteConstant(filter, [cout, cin, kh, kw], ([o, i, y, x]) => ((y * kw + x) * cin + i) * cout + o);
    const inputs = [out.transpose(out.value(node.inputs[0]), 'nchw'), out.constantValue(`${node.name}/weight`, weight)];
    if (fusedOps.length > 0) {
      if (fusedOps[0] !== 'BiasAdd') throw new Refusal(`fuses ${fusedOps.join('+')}, not BiasAdd first`);
      inputs.push(out.value(node.inputs[2]));
    }
    const attributes = [
      ...spatialAttributes(node),
      attrInts('kernel_shape', [kh, kw]),
      attrInts('dilations', [dilations[1], dilations[2]]),
      attrInt('group', depthwise ? cin : 1),
    ];
    const convolved = out.one('Conv', inputs, attributes, `${node.name}/nchw`);
    return [out.transpose(fusedOps.length > 0 ? activation(node, out, convolved, fusedOps) : convolved, 'nhwc')];
  };
}

function pool(op: 'MaxPool' | 'AveragePool'): Translator {
  return (node, out) => {
    const ksize = node.ints('ksize');
    const attributes = [...spatialAttributes(node), attrInts('kernel_shape', [ksize[1], ksize[2]])];
    const pooled = out.one(op, [out.transpose(out.value(node.inputs[0]), 'nchw')], attributes, `${node.name}/nchw`);
    return [out.transpose(pooled, 'nhwc')];
  };
}

function resize(mode: 'linear' | 'nearest'): Translator {
  return (node, out) => {
    const alignCorners = node.bool('align_corners', false);
    const halfPixel = node.bool('half_pixel_centers', false);
    const coordinates = alignCorners ? 'align_corners' : halfPixel ? (mode === 'linear' ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
    const x = out.transpose(out.value(node.inputs[0]), 'nchw');
    const batchAndChannels = out.one('Slice', [out.one('Shape', [x], [], `${node.name}/shape`), out.int64(`${node.name}/zero`, [0]), out.int64(`${node.name}/two`, [2])], [], `${node.name}/nc`);
    const sizes = out.one('Concat', [batchAndChannels, out.int64Of(node.inputs[1], `${node.name}/hw`)], [attrInt('axis', 0)], `${node.name}/sizes`);
    const attributes = [attrString('mode', mode), attrString('coordinate_transformation_mode', coordinates)];
    if (mode === 'nearest') attributes.push(attrString('nearest_mode', alignCorners ? 'round_prefer_ceil' : 'floor'));
    const resized = out.one('Resize', [x, '', '', sizes], attributes, `${node.name}/nchw`);
    return [out.transpose(resized, 'nhwc')];
  };
}

/** TF's StridedSlice (begin, end and strides constant; no ellipsis) as Slice, then Squeeze, then Unsqueeze. */
const stridedSlice: Translator = (node, out) => {
  const begin = constantInts(node, out, 1, 'begin');
  const end = constantInts(node, out, 2, 'end');
  const strides = constantInts(node, out, 3, 'strides');
  const bit = (mask: string, k: number) => (node.int(mask, 0) >> k) & 1;
  if (node.int('ellipsis_mask', 0) !== 0) throw new Refusal('uses ellipsis_mask, which the converter does not translate');
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const squeezed: number[] = [];
  const newAxes: number[] = [];
  let axis = 0;
  let outAxis = 0;
  for (let k = 0; k < begin.length; k++) {
    if (bit('new_axis_mask', k)) {
      newAxes.push(outAxis++);
      continue;
    }
    const step = strides[k];
    if (bit('shrink_axis_mask', k)) {
      starts.push(BigInt(begin[k]));
      ends.push(begin[k] === -1 ? INT64_MAX : BigInt(begin[k] + 1));
      axes.push(axis);
      steps.push(1);
      squeezed.push(axis++);
      continue;
    }
    const from = bit('begin_mask', k) ? (step > 0 ? 0n : INT64_MAX) : BigInt(begin[k]);
    const to = bit('end_mask', k) ? (step > 0 ? INT64_MAX : INT64_MIN) : BigInt(end[k]);
    if (!(from === 0n && to === INT64_MAX && step === 1)) {
      starts.push(from);
      ends.push(to);
      axes.push(axis);
      steps.push(step);
    }
    axis++;
    outAxis++;
  }
  let x = out.value(node.inputs[0]);
  if (axes.length > 0)
    x = out.one(
      'Slice',
      [x, out.int64(`${node.name}/starts`, starts), out.int64(`${node.name}/ends`, ends), out.int64(`${node.name}/axes`, axes), out.int64(`${node.name}/steps`, steps)],
      [],
      `${node.name}/slice`,
    );
  if (squeezed.length > 0) x = out.one('Squeeze', [x, out.int64(`${node.name}/squeeze`, squeezed)], [], `${node.name}/squeezed`);
  if (newAxes.length > 0) x = out.one('Unsqueeze', [x, out.int64(`${node.name}/new_axes`, newAxes)], [], `${node.name}/unsqueezed`);
  if (x === out.value(node.inputs[0])) x = out.one('Identity', [x], [], node.name);
  return [x];
};

const pack: Translator = (node, out) => {
  const axis = node.int('axis', 0);
  const axes = out.int64(`${node.name}/axis`, [axis]);
  const parts = node.inputs.map((input, k) => out.one('Unsqueeze', [out.value(input), axes], [], `${node.name}/part${k}`));
  return [parts.length === 1 ? parts[0] : out.one('Concat', parts, [attrInt('axis', axis)], node.name)];
};

const unpack: Translator = (node, out) => {
  const axis = node.int('axis', 0);
  const num = node.int('num');
  const parts = num === 1 ? [out.value(node.inputs[0])] : out.add('Split', [out.value(node.inputs[0])], [attrInt('axis', axis)], Array.from({ length: num }, (_, k) => `${node.name}/split${k}`));
  const axes = out.int64(`${node.name}/axis`, [axis]);
  return parts.map((part, k) => out.one('Squeeze', [part, axes], [], k === 0 ? node.name : `${node.name}:${k}`));
};

function reduce(op: string): Translator {
  return (node, out) => {
    const axes = constantInts(node, out, 1, 'reduction axes');
    const keepdims = attrInt('keepdims', node.bool('keep_dims', false) ? 1 : 0);
    const x = out.value(node.inputs[0]);
    // Opset 13 takes ReduceSum's axes as an input and the others' as an attribute.
    if (op === 'ReduceSum') return [out.one(op, [x, out.int64(`${node.name}/axes`, axes)], [keepdims], node.name)];
    return [out.one(op, [x], [attrInts('axes', axes), keepdims], node.name)];
  };
}

/**
 * TF's Transpose with a constant permutation. NHWC to NCHW and back go through the emitter's shared
 * transposes, so a graph exported from an NCHW framework (transposes round every convolution) cancels
 * them against the converter's own.
 */
const transposeOp: Translator = (node, out) => {
  const perm = constantInts(node, out, 1, 'permutation');
  const x = out.value(node.inputs[0]);
  if (perm.join() === '0,3,1,2') return [out.transpose(x, 'nchw')];
  if (perm.join() === '0,2,3,1') return [out.transpose(x, 'nhwc')];
  return [out.one('Transpose', [x], [attrInts('perm', perm)], node.name)];
};

/** Pad and PadV2 (constant padding; TF's [rank, 2] paddings are ONNX's begins then ends). */
const padOp: Translator = (node, out) => {
  const paddings = constantInts(node, out, 1, 'paddings');
  const rank = paddings.length / 2;
  const pads = [...Array.from({ length: rank }, (_, d) => paddings[2 * d]), ...Array.from({ length: rank }, (_, d) => paddings[2 * d + 1])];
  const inputs = [out.value(node.inputs[0]), out.int64(`${node.name}/pads`, pads)];
  if (node.inputs.length > 2) inputs.push(out.value(node.inputs[2]));
  return [out.one('Pad', inputs, [attrString('mode', 'constant')], node.name)];
};

/** SplitV with constant sizes (no -1: ONNX needs every size) along a constant axis. */
const splitV: Translator = (node, out) => {
  const sizes = constantInts(node, out, 1, 'split sizes');
  const [axis] = constantInts(node, out, 2, 'split axis');
  if (sizes.includes(-1)) throw new Refusal('has a split size of -1 (the rest), which the converter does not resolve');
  const names = sizes.map((_, k) => (k === 0 ? node.name : `${node.name}:${k}`));
  return out.add('Split', [out.value(node.inputs[0]), out.int64(`${node.name}/sizes`, sizes)], [attrInt('axis', axis)], names);
};

/**
 * SparseToDense of constants, folded here: exporters write shapes this way (a dense vector from
 * indices and values). Computed values are refused: ONNX has no op for it.
 */
const sparseToDense: Translator = (node, out) => {
  const indices = constantInput(node, out, 0, 'indices');
  const shape = Array.from(constantInput(node, out, 1, 'output shape').values);
  const values = constantInput(node, out, 2, 'values');
  const fill = constantInput(node, out, 3, 'default value');
  if (shape.length !== 1 || (indices.shape.length === 2 && indices.shape[1] !== 1)) throw new Refusal('makes a dense tensor of rank above 1, which the converter does not fold');
  const dense = new (values.values.constructor as Int32ArrayConstructor)(shape[0]).fill(fill.values[0]);
  indices.values.forEach((index, k) => (dense[index] = values.values.length === 1 ? values.values[0] : values.values[k]));
  return [out.constantValue(node.name, { dtype: values.dtype, shape, values: dense })];
};

/** Cast to int32 where ONNX answers int64 and TF int32 (shapes, sizes, indices). */
function toInt32(out: Emitter, value: string, hint: string): string {
  return out.one('Cast', [value], [attrInt('to', DataType.INT32)], hint);
}

export const TRANSLATORS: Record<string, Translator> = {
  Identity: (node, out) => [out.value(node.inputs[0])],
  Cast: (node, out) => [out.one('Cast', [out.value(node.inputs[0])], [attrInt('to', ONNX_TYPE[node.dtype('DstT')])], node.name)],
  Add: binary('Add'),
  AddV2: binary('Add'),
  BiasAdd: (node, out) => {
    if (node.string('data_format', 'NHWC') !== 'NHWC') throw new Refusal('adds its bias in NCHW, only NHWC is translated');
    return binary('Add')(node, out);
  },
  AddN: (node, out) => [out.one('Sum', node.inputs.map((i) => out.value(i)), [], node.name)],
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Minimum: binary('Min'),
  Maximum: binary('Max'),
  Pow: binary('Pow'),
  Less: binary('Less'),
  LessEqual: binary('LessOrEqual'),
  Greater: binary('Greater'),
  GreaterEqual: binary('GreaterOrEqual'),
  Equal: binary('Equal'),
  NotEqual: (node, out) => [out.one('Not', [binary('Equal')(node, out)[0]], [], node.name)],
  LogicalAnd: binary('And'),
  LogicalOr: binary('Or'),
  LogicalNot: unary('Not'),
  SquaredDifference: (node, out) => {
    const difference = binary('Sub')(node, out)[0];
    return [out.one('Mul', [difference, difference], [], node.name)];
  },
  FloorDiv: (node, out) => {
    const [a, b] = [out.value(node.inputs[0]), out.value(node.inputs[1])];
    if (node.dtype('T') === 'float32') return [out.one('Floor', [out.one('Div', [a, b], [], `${node.name}/div`)], [], node.name)];
    // ONNX's integer Div truncates towards zero, TF's FloorDiv rounds down: divide in float64 (exact for int32) and floor.
    const asDouble = (v: string, k: number) => out.one('Cast', [v], [attrInt('to', DataType.DOUBLE)], `${node.name}/double${k}`);
    const floored = out.one('Floor', [out.one('Div', [asDouble(a, 0), asDouble(b, 1)], [], `${node.name}/div`)], [], `${node.name}/floor`);
    return [out.one('Cast', [floored], [attrInt('to', ONNX_TYPE[node.dtype('T')])], node.name)];
  },
  Relu: unary('Relu'),
  Relu6: (node, out) => [clip(out, out.value(node.inputs[0]), 0, 6, node.name)],
  Sigmoid: unary('Sigmoid'),
  LeakyRelu: (node, out) => [out.one('LeakyRelu', [out.value(node.inputs[0])], [attrFloat('alpha', node.float('alpha', 0.2))], node.name)],
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Abs: unary('Abs'),
  Neg: unary('Neg'),
  Sqrt: unary('Sqrt'),
  Floor: unary('Floor'),
  Reciprocal: unary('Reciprocal'),
  Rsqrt: (node, out) => [out.one('Reciprocal', [out.one('Sqrt', [out.value(node.inputs[0])], [], `${node.name}/sqrt`)], [], node.name)],
  Square: (node, out) => {
    const x = out.value(node.inputs[0]);
    return [out.one('Mul', [x, x], [], node.name)];
  },
  Select: (node, out) => [out.one('Where', node.inputs.map((i) => out.value(i)), [], node.name)],
  SelectV2: (node, out) => [out.one('Where', node.inputs.map((i) => out.value(i)), [], node.name)],
  Shape: (node, out) => [toInt32(out, out.one('Shape', [out.value(node.inputs[0])], [], `${node.name}/int64`), node.name)],
  Size: (node, out) => [toInt32(out, out.one('Size', [out.value(node.inputs[0])], [], `${node.name}/int64`), node.name)],
  Reshape: (node, out) => [out.one('Reshape', [out.value(node.inputs[0]), out.int64Of(node.inputs[1], `${node.name}/shape`)], [], node.name)],
  Squeeze: (node, out) => {
    const axes = node.ints('squeeze_dims', []);
    const inputs = [out.value(node.inputs[0])];
    if (axes.length > 0) inputs.push(out.int64(`${node.name}/axes`, axes));
    return [out.one('Squeeze', inputs, [], node.name)];
  },
  ExpandDims: (node, out) => [out.one('Unsqueeze', [out.value(node.inputs[0]), out.int64(`${node.name}/axis`, constantInts(node, out, 1, 'axis'))], [], node.name)],
  Pack: pack,
  Unpack: unpack,
  ConcatV2: (node, out) => {
    const [axis] = constantInts(node, out, node.inputs.length - 1, 'axis');
    return [out.one('Concat', node.inputs.slice(0, -1).map((i) => out.value(i)), [attrInt('axis', axis)], node.name)];
  },
  Split: (node, out) => {
    const [axis] = constantInts(node, out, 0, 'split axis');
    const num = node.int('num_split');
    return out.add('Split', [out.value(node.inputs[1])], [attrInt('axis', axis)], Array.from({ length: num }, (_, k) => (k === 0 ? node.name : `${node.name}:${k}`)));
  },
  StridedSlice: stridedSlice,
  Transpose: transposeOp,
  Pad: padOp,
  PadV2: padOp,
  SplitV: splitV,
  SparseToDense: sparseToDense,
  Tile: (node, out) => [out.one('Tile', [out.value(node.inputs[0]), out.int64Of(node.inputs[1], `${node.name}/multiples`)], [], node.name)],
  Fill: (node, out) => {
    const dims = out.int64Of(node.inputs[0], `${node.name}/dims`);
    const value = out.constantOf(node.inputs[1]);
    if (value && !value.float16)
      return [out.one('ConstantOfShape', [dims], [attrTensor('value', tensorProto('value', ONNX_TYPE[value.dtype], [1], bytesOf(value.values)))], node.name)];
    return [out.one('Expand', [out.value(node.inputs[1]), dims], [], node.name)];
  },
  Range: (node, out) => [out.one('Range', node.inputs.map((i) => out.value(i)), [], node.name)],
  GatherNd: (node, out) => [out.one('GatherND', [out.value(node.inputs[0]), out.int64Of(node.inputs[1], `${node.name}/indices`)], [], node.name)],
  GatherV2: (node, out) => {
    if (node.int('batch_dims', 0) !== 0) throw new Refusal('has batch_dims, which the converter does not translate');
    const [axis] = constantInts(node, out, 2, 'axis');
    return [out.one('Gather', [out.value(node.inputs[0]), out.int64Of(node.inputs[1], `${node.name}/indices`)], [attrInt('axis', axis)], node.name)];
  },
  TopKV2: (node, out) => {
    const k = out.one('Reshape', [out.int64Of(node.inputs[1], `${node.name}/k64`), out.int64(`${node.name}/one`, [1])], [], `${node.name}/k`);
    const [values, indices] = out.add('TopK', [out.value(node.inputs[0]), k], [attrInt('axis', -1), attrInt('largest', 1), attrInt('sorted', 1)], [node.name, `${node.name}/indices64`]);
    return [values, toInt32(out, indices, `${node.name}:1`)];
  },
  ArgMax: (node, out) => {
    const [axis] = constantInts(node, out, 1, 'axis');
    const index = out.one('ArgMax', [out.value(node.inputs[0])], [attrInt('axis', axis), attrInt('keepdims', 0)], `${node.name}/int64`);
    return [node.dtype('output_type') === 'int64' ? index : toInt32(out, index, node.name)];
  },
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Sum: reduce('ReduceSum'),
  Mean: reduce('ReduceMean'),
  Prod: reduce('ReduceProd'),
  Conv2D: conv(false),
  _FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2dNative: conv(true),
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
};

/** The nodes the outputs need, inputs before the nodes that read them (depth first from the outputs). */
function nodesNeeded(nodes: TfNode[], outputs: string[]): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const order: TfNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    const node = byName.get(name);
    if (!node) throw new WalkoutError('MODEL_UNAVAILABLE', `the graph reads ${name}, which it does not define`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new WalkoutError('MODEL_UNAVAILABLE', `the graph has a cycle through ${name}`);
    state.set(name, 'visiting');
    const stack: Array<{ node: TfNode; next: number }> = [{ node, next: 0 }];
    // Iterative, as a deep graph would overflow the call stack.
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = top.node.input ?? [];
      if (top.next < inputs.length) {
        const input = inputs[top.next++].replace(/^\^/, '').replace(/:\d+$/, '');
        const child = byName.get(input);
        if (!child) throw new WalkoutError('MODEL_UNAVAILABLE', `node ${top.node.name} reads ${input}, which the graph does not define`);
        const seen = state.get(input);
        if (seen === 'visiting') throw new WalkoutError('MODEL_UNAVAILABLE', `the graph has a cycle through ${input}`);
        if (!seen) {
          state.set(input, 'visiting');
          stack.push({ node: child, next: 0 });
        }
        continue;
      }
      state.set(top.node.name, 'done');
      order.push(top.node);
      stack.pop();
    }
  };
  for (const output of outputs) visit(output.replace(/:\d+$/, ''));
  return order;
}

/** Every op the outputs need that the converter cannot translate, with the nodes that use it. */
export function unsupportedOps(nodes: TfNode[]): Map<string, string[]> {
  const unsupported = new Map<string, string[]>();
  for (const node of nodes)
    if (node.op !== 'Const' && node.op !== 'Placeholder' && !TRANSLATORS[node.op]) unsupported.set(node.op, [...(unsupported.get(node.op) ?? []), node.name]);
  return unsupported;
}

function refuse(problems: Array<{ op: string; nodes: string[]; reason: string }>): never {
  const lines = problems.map((p) => `  ${p.op} ${p.reason}: ${p.nodes.slice(0, 5).join(', ')}${p.nodes.length > 5 ? `, and ${p.nodes.length - 5} more` : ''}`);
  throw new WalkoutError('MODEL_UNSUPPORTED', `the TF.js graph cannot be converted to ONNX:\n${lines.join('\n')}`, { details: problems });
}

/** The ONNX model (serialised ModelProto) computing what the TF.js graph's signature outputs compute. */
export function convertTfjsGraphToOnnx(model: TfGraphModel, options: OnnxConvertOptions): Uint8Array {
  const nodes = nodesNeeded(model.nodes, model.outputs.map((o) => o.tensor));
  const unsupported = unsupportedOps(nodes);
  if (unsupported.size > 0)
    refuse([...unsupported].sort(([a], [b]) => (a < b ? -1 : 1)).map(([op, names]) => ({ op, nodes: names, reason: 'is not an op the converter translates' })));
  const out = new Emitter(model, nodes);
  const input = graphInputs(model, nodes, out, options);
  translateNodes(nodes, out);
  const output = graphOutputs(model, nodes, out);
  const graph = { name: options.name, node: out.nodes, initializer: out.initializers, input, output };
  if ((options.layout ?? 'nchw') === 'nchw') cancelTransposes(graph.node, model.outputs.map((o) => o.key));
  const modelProto = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'walkout tfjs-onnx.convert',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(modelProto).finish();
}

/** The graph's inputs, named by their signature keys, with the shapes their placeholders accept. */
function graphInputs(model: TfGraphModel, nodes: TfNode[], out: Emitter, options: OnnxConvertOptions): onnxProto.onnx.IValueInfoProto[] {
  return model.inputs.map((input) => {
    const placeholder = nodes.find((n) => n.name === input.tensor.replace(/:\d+$/, '') && n.op === 'Placeholder');
    // The placeholder says what the graph accepts; the signature may only say what it was exported at.
    const placeholderDims = placeholder?.attr?.shape?.shape?.dim?.map((d) => Number(d.size ?? -1));
    const shape = placeholderDims ?? input.shape ?? [];
    const dims = options.inputDims?.[input.key] ?? shape.map((d, k) => (d >= 0 ? d : `${input.key}_${k}`));
    out.bind(canonical(input.tensor), input.key);
    const dtype = input.dtype ?? (placeholder ? new NodeView(placeholder).dtype('dtype') : 'float32');
    return valueInfo(input.key, dtype, dims);
  });
}

/** Every node through its translator; refusals collected and reported together. */
function translateNodes(nodes: TfNode[], out: Emitter): void {
  const problems = new Map<string, { op: string; nodes: string[]; reason: string }>();
  for (const node of nodes) {
    if (node.op === 'Placeholder') continue;
    if (node.op === 'Const') {
      if (!out.constantOf(node.name)) throw new WalkoutError('MODEL_UNAVAILABLE', `constant ${node.name} has no weight in the shards`);
      continue;
    }
    try {
      const values = TRANSLATORS[node.op](new NodeView(node), out);
      values.forEach((value, k) => out.bind(`${node.name}:${k}`, value));
    } catch (error) {
      if (!(error instanceof Refusal) && !(error instanceof ReadsRefused)) throw error;
      out.refused.add(node.name);
      if (error instanceof ReadsRefused) continue;
      const key = `${node.op} ${error.message}`;
      const entry = problems.get(key) ?? { op: node.op, nodes: [], reason: error.message };
      entry.nodes.push(node.name);
      problems.set(key, entry);
    }
  }
  if (problems.size > 0) refuse([...problems.values()]);
}

/** An Identity per signature output, named by its key, typed by the signature or the node that makes it. */
function graphOutputs(model: TfGraphModel, nodes: TfNode[], out: Emitter): onnxProto.onnx.IValueInfoProto[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return model.outputs.map((output) => {
    out.nodes.push({ opType: 'Identity', name: output.key, input: [out.value(output.tensor)], output: [output.key], attribute: [] });
    return valueInfo(output.key, output.dtype ?? outputDtype(byName, output.tensor), output.shape?.map((d, k) => (d >= 0 ? d : `${output.key}_${k}`)));
  });
}

const BOOLEAN_OPS = new Set(['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot']);

/** The dtype of a TF tensor, from its node's attributes (for graph outputs the signature does not type). */
function outputDtype(byName: Map<string, TfNode>, tfTensor: string): TfDtype {
  const [name, index] = canonical(tfTensor).split(/:(?=\d+$)/);
  const node = byName.get(name);
  if (!node) return 'float32';
  const view = new NodeView(node);
  const typed = (key: string) => (node.attr?.[key] ? view.dtype(key) : undefined);
  if (node.op === 'Identity') return outputDtype(byName, view.inputs[0]);
  if (BOOLEAN_OPS.has(node.op)) return 'bool';
  if (node.op === 'TopKV2' && index === '1') return 'int32';
  return (node.op === 'Range' ? typed('Tidx') : undefined) ?? typed('DstT') ?? typed('out_type') ?? typed('output_type') ?? typed('T') ?? typed('Tparams') ?? typed('dtype') ?? 'float32';
}

/** A graph input or output: its type, and its shape where known (none written when unknown, which is not a scalar). */
function valueInfo(name: string, dtype: TfDtype, dims: Array<number | string> | undefined): onnxProto.onnx.IValueInfoProto {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType: { elemType: ONNX_TYPE[dtype], ...(shape ? { shape } : {}) } } };
}

/** Element-wise ops through which an NCHW tensor can flow unchanged (every other input is a scalar constant or also NCHW). */
const LAYOUT_FREE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Relu', 'Clip', 'Sigmoid', 'Sum', 'Max', 'Min']);

/**
 * Removes NCHW->NHWC->NCHW round trips between convolutions. A value made NHWC by a Transpose is
 * rewired to its NCHW source wherever it feeds (directly, or through element-wise ops whose every
 * other input also comes back from NCHW) another NHWC->NCHW Transpose. Element-wise ops then run on
 * NCHW data, and only tensors that something layout-dependent reads (Shape, Squeeze, slices, the
 * outputs) keep an NHWC copy. Nodes left unread are removed.
 */
export function cancelTransposes(nodes: NodeProto[], graphOutputs: string[]): void {
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producer.set(output, node);
  const perm = (node: NodeProto | undefined) => (node?.opType === 'Transpose' ? (node.attribute?.[0]?.ints ?? []).map(Number).join(',') : '');
  const TO_NHWC = '0,2,3,1';
  const TO_NCHW = '0,3,1,2';
  // nchwOf(v): a value holding v in NCHW, made by following back through transposes and element-wise ops.
  const names = new Set(nodes.flatMap((n) => [n.name ?? '', ...(n.output ?? [])]));
  const unique = (hint: string) => {
    let name = hint;
    for (let k = 1; names.has(name); k++) name = `${hint}_${k}`;
    names.add(name);
    return name;
  };
  const memo = new Map<string, string | null>();
  const added: NodeProto[] = [];
  const nchwOf = (value: string): string | null => {
    if (memo.has(value)) return memo.get(value)!;
    memo.set(value, null);
    const node = producer.get(value);
    let result: string | null = null;
    if (node && perm(node) === TO_NHWC) result = node.input![0];
    else if (node && LAYOUT_FREE.has(node.opType!) && (node.output ?? []).length === 1) {
      const inputs = (node.input ?? []).map((i) => nchwOf(i));
      if (inputs.every((i) => i !== null)) {
        result = unique(`${value}/nchw-copy`);
        added.push({ ...node, name: result, input: inputs as string[], output: [result] });
      }
    }
    memo.set(value, result);
    return result;
  };
  for (const node of nodes)
    if (perm(node) === TO_NCHW) {
      const source = nchwOf(node.input![0]);
      if (source) {
        node.opType = 'Identity';
        node.attribute = [];
        node.input = [source];
      }
    }
  // Place each NCHW copy right after the last node producing one of its inputs, keeping the order topological.
  const all = [...nodes];
  for (const copy of added) {
    let at = -1;
    for (const input of copy.input ?? []) {
      const index = all.findIndex((n) => (n.output ?? []).includes(input));
      at = Math.max(at, index);
    }
    all.splice(at + 1, 0, copy);
  }
  removeUnread(all, new Set(graphOutputs));
  nodes.splice(0, nodes.length, ...all);
}

/** Drops nodes none of whose outputs is read by another node or is a graph output. */
function removeUnread(nodes: NodeProto[], graphOutputs: Set<string>): void {
  let changed = true;
  while (changed) {
    changed = false;
    const read = new Set(nodes.flatMap((n) => n.input ?? []));
    for (let k = nodes.length - 1; k >= 0; k--) {
      const node = nodes[k];
      if (!(node.output ?? []).some((o) => read.has(o) || graphOutputs.has(o))) {
        nodes.splice(k, 1);
        changed = true;
      }
    }
  }
}
