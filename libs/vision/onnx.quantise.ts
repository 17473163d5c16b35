import onnxProto from 'onnx-proto';
import { WalkoutError } from '../contracts/index.ts';

/**
 * Int8 convolutions for an ONNX model, in the QDQ form ONNX Runtime fuses into its integer kernels
 * (QLinearConv, QLinearAdd): every convolution's weights quantised per output channel (int8,
 * symmetric), and what the convolutions read (and the residual Adds that make it) quantised to
 * uint8 over the range it took on calibration frames. The rest (the heads' outputs and their
 * decoding) stays float.
 *
 * Three steps, so that calibration can run on any runtime: `quantisedActivations` names the
 * tensors, `withOutputs` makes a model that also returns them (run it on frames, keep each
 * tensor's min and max), and `quantiseInt8` writes the quantised model from those ranges.
 */

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

/** Quantisation needs QuantizeLinear's per-axis form, opset 13. */
const MIN_OPSET = 13;
/** Calibrated ranges are widened to this many significant digits, so another CPU's last-bit differences in calibration write the same file. */
const RANGE_DIGITS = 2;

interface Graph {
  node: NodeProto[];
  initializer: TensorProto[];
  input: onnxProto.onnx.IValueInfoProto[];
  output: onnxProto.onnx.IValueInfoProto[];
}

function decode(model: Uint8Array): { decoded: ModelProto; graph: Graph } {
  const decoded = onnx.ModelProto.decode(model);
  const opset = decoded.opsetImport.find((o) => !o.domain)?.version;
  if (opset === undefined || Number(opset) < MIN_OPSET) throw new WalkoutError('MODEL_UNSUPPORTED', `int8 quantisation needs ONNX opset ${MIN_OPSET} or later; the model has ${opset ?? 'none'}`);
  const graph = (decoded.graph ??= new onnx.GraphProto());
  graph.node ??= [];
  graph.initializer ??= [];
  graph.input ??= [];
  graph.output ??= [];
  return { decoded, graph: graph as Graph };
}

/**
 * The activation tensors `quantiseInt8` quantises, in graph order: each convolution's data input
 * (commonly the convolution before it's output after its Relu6) and the inputs of the residual
 * Adds that make such inputs.
 */
export function quantisedActivations(model: Uint8Array, options: QuantiseOptions = {}): string[] {
  return activationsOf(decode(model).graph.node, options);
}

export interface QuantiseOptions {
  /**
   * Quantise what the residual Adds read even when a convolution reads the Add through an Identity
   * (the converter leaves one where it cancelled a pair of transposes, after most of MoveNet's
   * Adds): then ONNX Runtime runs those Adds and the convolutions before them as integer kernels.
   * Without it, those convolutions and Adds run in float, as the first int8 model did.
   */
  throughIdentities?: boolean;
  /**
   * Read the input pixels as the first convolution's quantised levels, without the float
   * normalisation (pixelsAsQuantised). 'nearest': when each pixel value is the nearest level of its
   * normalised value, ties either way (MoveNet's black, a tie, becomes level 0). 'exact': when the
   * levels QuantizeLinear gives the normalised pixels are the pixel values clamped to a range
   * (MoveNet's black is level 1, every other value its own); the pixels are clamped to it, and the
   * model computes exactly what it did with the normalisation quantised, for a few element-wise
   * passes over the input fewer.
   */
  pixelsAsLevels?: 'nearest' | 'exact';
  /**
   * Outputs of convolutions that no convolution reads (a head's last) to quantise too: those the
   * decoding reads as distances (keypoint offsets and regressions, box sizes), where 256 levels
   * over their range are finer than the decoding needs. Heatmaps stay float: in 256 levels their
   * flat tops give the decoding's peak search ties.
   */
  outputs?: readonly string[];
}

/**
 * The tensor an Identity chain passes on, for any tensor name. The converter leaves an Identity
 * where it cancelled a pair of transposes (an Add's NCHW copy, then the name the graph reads), so
 * a convolution often reads an Add through one: quantising what the Identity passes on keeps the
 * Add's Q/DQ next to it, where ONNX Runtime fuses the Add and the convolutions that make its
 * inputs into integer kernels (QLinearAdd, QLinearConv).
 */
function identitySources(nodes: NodeProto[], { throughIdentities = false }: QuantiseOptions): (tensor: string) => string {
  if (!throughIdentities) return (tensor) => tensor;
  const passes = new Map(nodes.filter((node) => node.opType === 'Identity').map((node) => [node.output![0], node.input![0]]));
  return (tensor) => {
    while (passes.has(tensor)) tensor = passes.get(tensor)!;
    return tensor;
  };
}

function activationsOf(nodes: NodeProto[], options: QuantiseOptions): string[] {
  const { outputs = [] } = options;
  const readers = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const input of node.input ?? []) readers.set(input, [...(readers.get(input) ?? []), node]);
  // What convolutions read, and what the residual Adds that make those read (back to the
  // convolutions' outputs they sum). A convolution whose output nothing of these reads (a head's
  // last, read by the decoding) keeps a float output: quantised, the heatmaps' flat tops give the
  // decoding's peak search ties, and it reports one person two or three times.
  const source = identitySources(nodes, options);
  const tensors = new Set(nodes.filter((node) => node.opType === 'Conv').map((node) => source(node.input![0])));
  for (let grew = true; grew; ) {
    grew = false;
    for (const node of nodes)
      if (node.opType === 'Add' && tensors.has(node.output![0]))
        for (const input of node.input!.map(source)) if (!tensors.has(input)) grew = tensors.add(input) !== undefined;
  }
  const convolutionOutputs = new Set(nodes.filter((node) => node.opType === 'Conv').map((node) => node.output![0]));
  for (const output of outputs) {
    if (!convolutionOutputs.has(output)) throw new WalkoutError('MODEL_UNSUPPORTED', `int8 quantisation: ${output} is not the output of a convolution`);
    tensors.add(output);
  }
  const order = nodes.flatMap((node) => [...(node.input ?? []), ...(node.output ?? [])]);
  return [...tensors].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** The model returning `tensors` too (as float32 outputs after its own), for calibration. */
export function withOutputs(model: Uint8Array, tensors: readonly string[]): Uint8Array {
  const { decoded, graph } = decode(model);
  for (const name of tensors) graph.output.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  return onnx.ModelProto.encode(decoded).finish();
}

/** A calibrated range [min, max] widened to RANGE_DIGITS significant digits and to include 0 (uint8 must hold an exact 0). */
export function roundedRange([min, max]: readonly [number, number]): [number, number] {
  const widen = (value: number, up: boolean) => {
    if (value === 0 || !Number.isFinite(value)) return 0;
    const unit = 10 ** (Math.floor(Math.log10(Math.abs(value))) - RANGE_DIGITS + 1);
    return Number(((up ? Math.ceil(value / unit) : Math.floor(value / unit)) * unit).toPrecision(RANGE_DIGITS));
  };
  return [Math.min(0, widen(min, false)), Math.max(0, widen(max, true))];
}

/**
 * The model with its convolutions in int8 (QDQ). `ranges` gives every tensor quantisedActivations
 * names its calibrated [min, max]; a missing one is an error naming it. Weights are read from
 * float32 or float16 initializers, directly or through a Cast.
 */
export function quantiseInt8(model: Uint8Array, ranges: ReadonlyMap<string, readonly [number, number]>, options: QuantiseOptions = {}): Uint8Array {
  const { decoded, graph } = decode(model);
  const nodes = graph.node;
  const activations = activationsOf(nodes, options);
  const missing = activations.filter((name) => !ranges.has(name));
  if (missing.length) throw new WalkoutError('MODEL_UNSUPPORTED', `int8 quantisation: no calibrated range for ${missing.length} tensors: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  const initializers = new Map(graph.initializer.map((t) => [t.name!, t]));
  const producers = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producers.set(output, node);
  const added: TensorProto[] = [];
  /** Nodes to put right after a tensor is made (the graph must stay in topological order). */
  const after = new Map<string, NodeProto[]>();
  const put = (tensor: string, node: NodeProto) => after.set(tensor, [...(after.get(tensor) ?? []), node]);
  const renamed = new Map<string, string>();
  const inputs = new Map(graph.input.map((input) => [input.name!, input]));
  for (const name of activations) {
    const [scale, zeroPoint] = uint8Params(roundedRange(ranges.get(name)!));
    added.push(floats(`${name}/q/scale`, [scale], []), { name: `${name}/q/zero_point`, dataType: DataType.UINT8, dims: [], rawData: Uint8Array.of(zeroPoint) });
    const pixels = options.pixelsAsLevels && pixelsAsQuantised(name, scale, zeroPoint, options.pixelsAsLevels, { producers, initializers, inputs });
    if (pixels) {
      added.push(...pixels.constants);
      // Right after the graph's input, in the order they read each other.
      for (const node of pixels.nodes) put(pixels.input, node);
      put(pixels.input, { opType: 'DequantizeLinear', name: `${name}/dq`, input: [pixels.quantised, `${name}/q/scale`, `${name}/q/zero_point`], output: [`${name}/dq`] });
    } else {
      put(name, { opType: 'QuantizeLinear', name: `${name}/q`, input: [name, `${name}/q/scale`, `${name}/q/zero_point`], output: [`${name}/q`] });
      put(name, { opType: 'DequantizeLinear', name: `${name}/dq`, input: [`${name}/q`, `${name}/q/scale`, `${name}/q/zero_point`], output: [`${name}/dq`] });
    }
    renamed.set(name, `${name}/dq`);
  }
  const weightNodes: NodeProto[] = [];
  const source = identitySources(nodes, options);
  for (const node of nodes) {
    node.input = node.input!.map((input) => renamed.get(source(input)) ?? input);
    if (node.opType !== 'Conv') continue;
    const weight = weightOf(node.input[1], initializers, producers);
    const { values, dims } = weight;
    const channels = dims[0];
    const perChannel = values.length / channels;
    const quantised = new Int8Array(values.length);
    const scales: number[] = [];
    for (let c = 0; c < channels; c++) {
      let largest = 0;
      for (let k = 0; k < perChannel; k++) largest = Math.max(largest, Math.abs(values[c * perChannel + k]));
      const scale = largest > 0 ? largest / 127 : 1;
      scales.push(scale);
      for (let k = 0; k < perChannel; k++) quantised[c * perChannel + k] = Math.round(values[c * perChannel + k] / Math.fround(scale));
    }
    const base = `${node.name}/weight_int8`;
    added.push(
      { name: base, dataType: DataType.INT8, dims, rawData: new Uint8Array(quantised.buffer) },
      floats(`${base}/scale`, scales, [channels]),
      { name: `${base}/zero_point`, dataType: DataType.INT8, dims: [channels], rawData: new Uint8Array(channels) },
    );
    weightNodes.push({
      opType: 'DequantizeLinear',
      name: `${base}/dq`,
      input: [base, `${base}/scale`, `${base}/zero_point`],
      output: [`${base}/dq`],
      attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }],
    });
    node.input[1] = `${base}/dq`;
  }
  const ordered: NodeProto[] = [...weightNodes];
  for (const input of graph.input) ordered.push(...(after.get(input.name!) ?? []));
  for (const node of nodes) {
    ordered.push(node);
    for (const output of node.output ?? []) ordered.push(...(after.get(output) ?? []));
  }
  // What nothing reads any more goes: the Casts of float16 weights only the convolutions read, the
  // Identities whose readers now read the quantised tensor they passed on, the normalisation of
  // pixels quantised as themselves.
  graph.node = withoutUnread(ordered, new Set(graph.output.map((o) => o.name!)));
  const stillRead = new Set(graph.node.flatMap((node) => node.input ?? []));
  graph.initializer = [...graph.initializer.filter((t) => stillRead.has(t.name!)), ...added];
  return onnx.ModelProto.encode(decoded).finish();
}

/** Drops the nodes none of whose outputs a node or the graph's outputs read, until none is left. */
function withoutUnread(nodes: NodeProto[], graphOutputs: ReadonlySet<string>): NodeProto[] {
  for (let count = -1; count !== nodes.length; ) {
    count = nodes.length;
    const read = new Set([...nodes.flatMap((node) => node.input ?? []), ...graphOutputs]);
    nodes = nodes.filter((node) => (node.output ?? []).some((output) => read.has(output)));
  }
  return nodes;
}

/**
 * How far past half a quantisation step a level may lie from the value and still count as the
 * nearest: a tie (a normalised pixel half way between two levels) goes either way, and float32
 * rounding in the normalisation moves a value by far less than this.
 */
const TIE_SLACK_STEPS = 1e-3;

const PIXEL_VALUES = 256;
const ELEMENTWISE: Record<string, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b };

/** The uint8 level QuantizeLinear gives a float32 value: the value over the scale in float32, rounded half to even, plus the zero point, saturated. */
export function quantiseLinear(value: number, scale: number, zeroPoint: number): number {
  const scaled = Math.fround(value / Math.fround(scale));
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return Math.min(255, Math.max(0, rounded + zeroPoint));
}

/**
 * Whether the tensor `name` is the model's integer pixels (0 to 255), cast to float, normalised
 * channel by channel (Add, Sub, Mul, Div by constants) and transposed, such that the pixels
 * themselves can stand for that tensor quantised with `scale` and `zeroPoint` (reckoned in float32,
 * as the model does), without the normalisation's float passes over the whole input:
 * - 'nearest': each pixel's own value is the nearest level to its normalised value (ties either
 *   way), for every value and channel (MoveNet's [-1, 1] in 256 levels: level = pixel);
 * - 'exact': the level QuantizeLinear gives each normalised value is the pixel's value clamped to
 *   one range for every channel (MoveNet's: level = pixel, but black is level 1); the pixels are
 *   clamped to it, so the levels are QuantizeLinear's, to the bit.
 * Returns the graph input, the nodes that make the quantised tensor from it (a Cast, a Clip where
 * 'exact' needs one, then the same transposes), the constants they read, and that tensor;
 * undefined when `name` is not such pixels.
 */
function pixelsAsQuantised(
  name: string,
  scale: number,
  zeroPoint: number,
  match: 'nearest' | 'exact',
  graph: { producers: Map<string, NodeProto>; initializers: Map<string, TensorProto>; inputs: Map<string, onnxProto.onnx.IValueInfoProto> },
): { input: string; nodes: NodeProto[]; constants: TensorProto[]; quantised: string } | undefined {
  const transposes: NodeProto[] = [];
  let tensor = name;
  for (let node = graph.producers.get(tensor); node?.opType === 'Transpose'; node = graph.producers.get(tensor)) {
    transposes.unshift(node);
    tensor = node.input![0];
  }
  const steps: Array<{ apply: (a: number, b: number) => number; constant: Float32Array; constantFirst: boolean }> = [];
  for (let node = graph.producers.get(tensor); node && node.opType! in ELEMENTWISE; node = graph.producers.get(tensor)) {
    const [left, right] = node.input!;
    const constantFirst = isConstant(left, graph);
    if (constantFirst === isConstant(right, graph)) return undefined;
    const constant = weightOf(constantFirst ? left : right, graph.initializers, graph.producers).values;
    steps.unshift({ apply: ELEMENTWISE[node.opType!], constant, constantFirst });
    tensor = constantFirst ? right : left;
  }
  const cast = graph.producers.get(tensor);
  const input = cast?.opType === 'Cast' ? graph.inputs.get(cast.input![0]) : undefined;
  if (!input || input.type?.tensorType?.elemType !== DataType.INT32 || Number(cast!.attribute?.find((a) => a.name === 'to')?.i) !== DataType.FLOAT) return undefined;
  const channels = Math.max(1, ...steps.map((step) => step.constant.length));
  if (steps.some((step) => step.constant.length !== 1 && step.constant.length !== channels)) return undefined;
  const normalised = (pixel: number, channel: number) => {
    let value = pixel;
    for (const { apply, constant, constantFirst } of steps) {
      const k = constant[constant.length === 1 ? 0 : channel];
      value = Math.fround(constantFirst ? apply(k, value) : apply(value, k));
    }
    return value;
  };
  // The levels the pixels are clamped to ('exact'); all of them for 'nearest'.
  let [lowest, highest] = [0, PIXEL_VALUES - 1];
  if (match === 'exact') {
    [lowest, highest] = [quantiseLinear(normalised(0, 0), scale, zeroPoint), quantiseLinear(normalised(PIXEL_VALUES - 1, 0), scale, zeroPoint)];
    const clamped = (pixel: number) => Math.min(highest, Math.max(lowest, pixel));
    for (let channel = 0; channel < channels; channel++)
      for (let pixel = 0; pixel < PIXEL_VALUES; pixel++) if (quantiseLinear(normalised(pixel, channel), scale, zeroPoint) !== clamped(pixel)) return undefined;
  } else
    for (let channel = 0; channel < channels; channel++)
      for (let pixel = 0; pixel < PIXEL_VALUES; pixel++)
        if (Math.abs((pixel - zeroPoint) * scale - normalised(pixel, channel)) > scale * (0.5 + TIE_SLACK_STEPS)) return undefined;
  let quantised = `${name}/pixels/uint8`;
  const nodes: NodeProto[] = [{ opType: 'Cast', name: quantised, input: [input.name!], output: [quantised], attribute: [{ name: 'to', type: AttrType.INT, i: DataType.UINT8 }] }];
  const constants: TensorProto[] = [];
  if (lowest > 0 || highest < PIXEL_VALUES - 1) {
    const clipped = `${name}/pixels/clamped`;
    constants.push(
      { name: `${clipped}/min`, dataType: DataType.UINT8, dims: [], rawData: Uint8Array.of(lowest) },
      { name: `${clipped}/max`, dataType: DataType.UINT8, dims: [], rawData: Uint8Array.of(highest) },
    );
    nodes.push({ opType: 'Clip', name: clipped, input: [quantised, `${clipped}/min`, `${clipped}/max`], output: [clipped] });
    quantised = clipped;
  }
  for (const [k, transpose] of transposes.entries()) {
    const next = `${name}/pixels/transposed${k}`;
    nodes.push({ ...transpose, name: next, input: [quantised], output: [next] });
    quantised = next;
  }
  return { input: input.name!, nodes, constants, quantised };
}

function isConstant(tensor: string, graph: { producers: Map<string, NodeProto>; initializers: Map<string, TensorProto> }): boolean {
  if (graph.initializers.has(tensor)) return true;
  const cast = graph.producers.get(tensor);
  return cast?.opType === 'Cast' && graph.initializers.has(cast.input![0]);
}

/** uint8 scale and zero point for a range holding 0. */
function uint8Params([min, max]: [number, number]): [number, number] {
  const scale = max > min ? (max - min) / 255 : 1;
  return [scale, Math.min(255, Math.max(0, Math.round(-min / scale)))];
}

function floats(name: string, values: number[], dims: number[]): TensorProto {
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** A convolution's weights as float32, from an initializer or a Cast of one (float16 weights). */
function weightOf(name: string, initializers: Map<string, TensorProto>, producers: Map<string, NodeProto>): { values: Float32Array; dims: number[] } {
  const cast = producers.get(name);
  const tensor = initializers.get(name) ?? (cast?.opType === 'Cast' ? initializers.get(cast.input![0]) : undefined);
  if (!tensor?.rawData) throw new WalkoutError('MODEL_UNSUPPORTED', `int8 quantisation: the weights ${name} of a Conv are not a constant (an initializer, or a Cast of one)`);
  const raw = tensor.rawData;
  const buffer = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const dims = tensor.dims!.map(Number);
  if (tensor.dataType === DataType.FLOAT) return { values: new Float32Array(buffer), dims };
  if (tensor.dataType === DataType.FLOAT16) return { values: Float32Array.from(new Uint16Array(buffer), halfToFloat), dims };
  throw new WalkoutError('MODEL_UNSUPPORTED', `int8 quantisation: the weights ${name} of a Conv are ${DataType[tensor.dataType!]}, not float32 or float16`);
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
