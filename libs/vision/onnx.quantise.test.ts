import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { onnxSessionOptions } from './onnx.detector.ts';
import { quantisedActivations, quantiseInt8, quantiseLinear, roundedRange, withOutputs, type QuantiseOptions } from './onnx.quantise.ts';
import { attr, noise, writeTinyGraph, type TinyGraph, type TinyTensor } from './tfjs-graph.fixture.ts';
import { readTfjsGraphModel } from './tfjs-graph.read.ts';
import { convertTfjsGraphToOnnx } from './tfjs-onnx.convert.ts';

/**
 * Int8 convolutions (QDQ): on a tiny graph of MoveNet's kind (convolutions, a residual add, Relu6,
 * float16 weights) converted from TF.js, the quantised model's outputs stay within a few
 * quantisation steps of the float model's, and ONNX Runtime runs it.
 */

const T = { T: attr.type('float32') };
const conv = (name: string, input: string, weights: string) => ({
  name,
  op: 'Conv2D',
  input: [input, weights],
  attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') },
});

/** A convolution with its bias and Relu6 fused, as MoveNet's are. */
const convRelu6 = (name: string, input: string, weights: string, bias: string) => ({
  ...conv(name, input, weights),
  op: '_FusedConv2D',
  input: [input, weights, bias],
  attr: { ...conv(name, input, weights).attr, fused_ops: attr.strings(['BiasAdd', 'Relu6']), num_args: attr.i(1) },
});

const GRAPH: TinyGraph = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, -1, -1, 4] }],
  constants: { w1: noise([1, 1, 4, 8], 10), b1: noise([8], 13), w2: noise([3, 3, 8, 8], 11), b2: noise([8], 14), w3: noise([1, 1, 8, 4], 12) },
  nodes: [convRelu6('a', 'x', 'w1', 'b1'), convRelu6('b', 'a', 'w2', 'b2'), { name: 'sum', op: 'AddV2', input: ['a', 'b'], attr: T }, conv('c', 'sum', 'w3')],
  outputs: ['c'],
  quantise: 'float16',
};

async function run(model: Uint8Array, x: TinyTensor, outputs?: readonly string[]) {
  const session = await ort.InferenceSession.create(model, onnxSessionOptions(1));
  const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.values), x.shape) });
  await session.release();
  return Object.fromEntries((outputs ?? session.outputNames).map((name) => [name, result[name].data as Float32Array]));
}

test('the convolutions of a tiny graph in int8: outputs within a few quantisation steps of the float model, Q/DQ on what each convolution reads', async () => {
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(GRAPH)), { name: 'tiny' });
  const activations = quantisedActivations(float);
  // What the three convolutions read: the input, a after its Relu6, the residual sum. c's output,
  // which only the graph's output reads, stays float.
  assert.deepEqual(activations, ['x/nchw', 'a/relu6', 'sum/nchw']);
  const calibration = noise([1, 8, 8, 4], 1);
  const seen = await run(withOutputs(float, activations), calibration, activations);
  const ranges = new Map(activations.map((name): [string, [number, number]] => [name, [Math.min(...seen[name]), Math.max(...seen[name])]]));
  const int8 = quantiseInt8(float, ranges);
  const ops = onnxProto.onnx.ModelProto.decode(int8).graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((op) => op === 'QuantizeLinear').length, 3);
  assert.equal(ops.filter((op) => op === 'DequantizeLinear').length, 3 + 3, 'each activation, and each convolution\'s weights');
  const x = calibration;
  const expected = (await run(float, x)).output_0;
  const got = (await run(int8, x)).output_0;
  // A quantisation step of the output's own range.
  const step = (Math.max(...expected) - Math.min(...expected)) / 255;
  const worst = expected.reduce((w, v, i) => Math.max(w, Math.abs(v - got[i])), 0);
  console.log(`int8 against float: ${(worst / step).toFixed(1)} quantisation steps of the output at worst`);
  assert.ok(worst < 3 * step, `int8 differs from float by ${worst}, ${(worst / step).toFixed(1)} quantisation steps of the output`);
  assert.ok(worst > 0, 'the quantised model is not the float one');
});

/** How many of each of `ops` ONNX Runtime runs for a model once it has fused Q/DQ groups into integer kernels. */
async function optimisedOps(model: Uint8Array, ops: readonly string[]): Promise<Record<string, number>> {
  const optimised = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-quantise-')), 'optimised.onnx');
  // 'extended' fuses Q/DQ groups and still writes standard ONNX ('all' adds layouts of its own).
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimised, logSeverityLevel: 3 });
  await session.release();
  const kept = onnxProto.onnx.ModelProto.decode(await readFile(optimised)).graph!.node!.map((n) => n.opType!);
  return Object.fromEntries(ops.map((op) => [op, kept.filter((kind) => kind === op).length]));
}

test('through the Identity the converter leaves after an Add, ONNX Runtime runs the residual add and the convolution before it as integer kernels too: only the last convolution stays float', async () => {
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(GRAPH)), { name: 'tiny' });
  const int8 = async (options: QuantiseOptions) => {
    const activations = quantisedActivations(float, options);
    const seen = await run(withOutputs(float, activations), noise([1, 8, 8, 4], 1), activations);
    return quantiseInt8(float, new Map(activations.map((name): [string, [number, number]] => [name, [Math.min(...seen[name]), Math.max(...seen[name])]])), options);
  };
  // What the sum adds (a and b) and the Add's own output, not the Identity after it.
  assert.deepEqual(quantisedActivations(float, { throughIdentities: true }), ['x/nchw', 'a/relu6', 'b/relu6', 'sum/nchw-copy']);
  assert.deepEqual(await optimisedOps(await int8({ throughIdentities: true }), ['QLinearConv', 'QLinearAdd', 'Conv', 'FusedConv']), { QLinearConv: 2, QLinearAdd: 1, Conv: 1, FusedConv: 0 });
  // Without it, b (a float FusedConv with its Relu6) and the sum stay float.
  assert.deepEqual(await optimisedOps(await int8({}), ['QLinearConv', 'QLinearAdd', 'Conv', 'FusedConv']), { QLinearConv: 1, QLinearAdd: 0, Conv: 1, FusedConv: 1 });
});

test('named outputs of the last convolutions are quantised too, and ONNX Runtime runs those convolutions as integer kernels; a name that is no convolution\'s output is refused', async () => {
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(GRAPH)), { name: 'tiny' });
  const options = { throughIdentities: true, outputs: ['c/nchw'] };
  const activations = quantisedActivations(float, options);
  assert.deepEqual(activations, ['x/nchw', 'a/relu6', 'b/relu6', 'sum/nchw-copy', 'c/nchw']);
  const calibration = noise([1, 8, 8, 4], 1);
  const seen = await run(withOutputs(float, activations), calibration, activations);
  const ranges = new Map(activations.map((name): [string, [number, number]] => [name, [Math.min(...seen[name]), Math.max(...seen[name])]]));
  const int8 = quantiseInt8(float, ranges, options);
  assert.deepEqual(await optimisedOps(int8, ['QLinearConv', 'Conv']), { QLinearConv: 3, Conv: 0 });
  const expected = (await run(float, calibration)).output_0;
  const got = (await run(int8, calibration)).output_0;
  const step = (ranges.get('c/nchw')![1] - ranges.get('c/nchw')![0]) / 255;
  const worst = expected.reduce((w, v, i) => Math.max(w, Math.abs(v - got[i])), 0);
  assert.ok(worst < 3 * step, `int8 differs from float by ${(worst / step).toFixed(1)} quantisation steps of the output`);
  assert.throws(() => quantisedActivations(float, { outputs: ['a/relu6'] }), /a\/relu6 is not the output of a convolution/);
});

/** MoveNet's input: int32 RGB cast to float and brought to [-1, 1] (the constants as float16 stores them), then a convolution. */
const PIXELS: TinyGraph = {
  inputs: [{ name: 'rgb', dtype: 'int32', shape: [1, -1, -1, 3] }],
  constants: { mean: { dtype: 'float32', shape: [1, 1, 1, 3], values: [0, 0, 0] }, k: { dtype: 'float32', shape: [1, 1, 1, 3], values: [1 / 127.5, 1 / 127.5, 1 / 127.5] }, one: { dtype: 'float32', shape: [], values: [1] }, w: noise([3, 3, 3, 4], 21), b: noise([4], 22) },
  nodes: [
    { name: 'float', op: 'Cast', input: ['rgb'], attr: { SrcT: attr.type('int32'), DstT: attr.type('float32') } },
    { name: 'centred', op: 'Sub', input: ['float', 'mean'], attr: T },
    { name: 'scaled', op: 'Mul', input: ['centred', 'k'], attr: T },
    { name: 'normalised', op: 'Sub', input: ['scaled', 'one'], attr: T },
    convRelu6('a', 'normalised', 'w', 'b'),
  ],
  outputs: ['a'],
  quantise: 'float16',
};

/** Every pixel value in every channel, in an 8x32 image. */
const EVERY_PIXEL: TinyTensor = { dtype: 'int32', shape: [1, 8, 32, 3], values: Array.from({ length: 8 * 32 * 3 }, (_, k) => (Math.floor(k / 3) + 85 * (k % 3)) % 256) };

test('pixels normalised to [-1, 1] and quantised in 256 levels are the pixels themselves: a Cast to uint8 replaces the normalisation, within a few quantisation steps of float', async () => {
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(PIXELS)), { name: 'pixels' });
  const activations = quantisedActivations(float);
  assert.deepEqual(activations, ['normalised/nchw']);
  const options: QuantiseOptions = { pixelsAsLevels: 'nearest' };
  const runPixels = async (model: Uint8Array, outputs?: readonly string[]) => {
    const session = await ort.InferenceSession.create(model, onnxSessionOptions(1));
    const result = await session.run({ rgb: new ort.Tensor('int32', Int32Array.from(EVERY_PIXEL.values), EVERY_PIXEL.shape) });
    await session.release();
    return Object.fromEntries((outputs ?? session.outputNames).map((name) => [name, result[name].data as Float32Array]));
  };
  const seen = (await runPixels(withOutputs(float, activations), activations))['normalised/nchw'];
  const range: [number, number] = [Math.min(...seen), Math.max(...seen)];
  const int8 = quantiseInt8(float, new Map([['normalised/nchw', range]]), options);
  const nodes = onnxProto.onnx.ModelProto.decode(int8).graph!.node!;
  assert.deepEqual(nodes.filter((n) => ['Sub', 'Mul', 'QuantizeLinear'].includes(n.opType!)).map((n) => n.opType), [], 'no normalisation, no quantising of the input');
  assert.ok(nodes.some((n) => n.opType === 'Cast' && n.input![0] === 'rgb' && Number(n.attribute![0].i) === onnxProto.onnx.TensorProto.DataType.UINT8), 'the pixels cast to uint8');
  const expected = (await runPixels(float)).output_0;
  const got = (await runPixels(int8)).output_0;
  const step = (Math.max(...expected) - Math.min(...expected)) / 255;
  const worst = expected.reduce((w, v, i) => Math.max(w, Math.abs(v - got[i])), 0);
  assert.ok(worst < 3 * step, `int8 differs from float by ${(worst / step).toFixed(1)} quantisation steps of the output`);
  // Over a wider range the levels are not the pixels, and without the option the pixels are not read as levels: the normalisation stays, quantised.
  const normalisation = (model: Uint8Array) => onnxProto.onnx.ModelProto.decode(model).graph!.node!.filter((n) => ['Sub', 'Mul', 'QuantizeLinear'].includes(n.opType!)).map((n) => n.opType);
  assert.deepEqual(normalisation(quantiseInt8(float, new Map([['normalised/nchw', [-2, 2]]]), options)), ['Sub', 'Mul', 'Sub', 'QuantizeLinear']);
  assert.deepEqual(normalisation(quantiseInt8(float, new Map([['normalised/nchw', range]]))), ['Sub', 'Mul', 'Sub', 'QuantizeLinear']);
});

test('pixels read as the levels QuantizeLinear gives them (black is level 1 in [-1, 1]): a Cast and a Clip replace the normalisation, and the outputs are the quantised normalisation\'s to the bit', async () => {
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(PIXELS)), { name: 'pixels' });
  const runPixels = async (model: Uint8Array) => {
    const session = await ort.InferenceSession.create(model, onnxSessionOptions(1));
    const result = await session.run({ rgb: new ort.Tensor('int32', Int32Array.from(EVERY_PIXEL.values), EVERY_PIXEL.shape) });
    await session.release();
    return result.output_0.data as Float32Array;
  };
  // MoveNet's range: [-1, 1] in 256 levels, zero point 128, black (-1) at -127.5 steps as float32 reckons it, just short of the tie: level 1.
  const ranges = new Map([['normalised/nchw', [-1, 1] as [number, number]]]);
  const normalisation = quantiseInt8(float, ranges);
  const exact = quantiseInt8(float, ranges, { pixelsAsLevels: 'exact' });
  const ops = onnxProto.onnx.ModelProto.decode(exact).graph!.node!.map((n) => n.opType!);
  assert.deepEqual(ops.filter((op) => ['Sub', 'Mul', 'QuantizeLinear', 'Clip'].includes(op)), ['Clip', 'Clip'], 'no normalisation, no quantising of the input: a Clip of the pixels, and the Relu6');
  const bytes = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  assert.equal(Buffer.compare(bytes(await runPixels(exact)), bytes(await runPixels(normalisation))), 0, 'the same outputs to the bit');
  // Black read as level 0 (nearest, ties either way) is not the quantised normalisation.
  assert.notEqual(Buffer.compare(bytes(await runPixels(quantiseInt8(float, ranges, { pixelsAsLevels: 'nearest' }))), bytes(await runPixels(normalisation))), 0);
  // Where the levels are not the pixels clamped (a wider range), the normalisation stays.
  const wider = onnxProto.onnx.ModelProto.decode(quantiseInt8(float, new Map([['normalised/nchw', [-2, 2]]]), { pixelsAsLevels: 'exact' })).graph!.node!;
  assert.deepEqual(wider.filter((n) => ['Sub', 'Mul', 'QuantizeLinear'].includes(n.opType!)).map((n) => n.opType), ['Sub', 'Mul', 'Sub', 'QuantizeLinear']);
});

test('quantiseLinear rounds as QuantizeLinear does: the value over the scale in float32, half to even, plus the zero point, saturated', () => {
  assert.equal(quantiseLinear(-1, 2 / 255, 128), 1);
  assert.equal(quantiseLinear(0.5, 1, 10), 10);
  assert.equal(quantiseLinear(1.5, 1, 10), 12);
  assert.equal(quantiseLinear(-2.5, 1, 10), 8);
  assert.equal(quantiseLinear(-300, 1, 10), 0);
  assert.equal(quantiseLinear(300, 1, 10), 255);
});

test('calibrated ranges are widened to two significant digits and to hold 0; a tensor with no range is refused by name', async () => {
  assert.deepEqual(roundedRange([-0.01234, 5.678]), [-0.013, 5.7]);
  assert.deepEqual(roundedRange([0.5, 12.01]), [0, 13]);
  assert.deepEqual(roundedRange([0, 0]), [0, 0]);
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(GRAPH)), { name: 'tiny' });
  assert.throws(() => quantiseInt8(float, new Map()), /int8 quantisation: no calibrated range for 3 tensors: x\/nchw, a\/relu6, sum\/nchw/);
});
