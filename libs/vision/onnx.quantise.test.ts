import assert from 'node:assert/strict';
import test from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { quantisedActivations, quantiseInt8, roundedRange, withOutputs } from './onnx.quantise.ts';
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
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, logSeverityLevel: 3 });
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

test('calibrated ranges are widened to two significant digits and to hold 0; a tensor with no range is refused by name', async () => {
  assert.deepEqual(roundedRange([-0.01234, 5.678]), [-0.013, 5.7]);
  assert.deepEqual(roundedRange([0.5, 12.01]), [0, 13]);
  assert.deepEqual(roundedRange([0, 0]), [0, 0]);
  const float = convertTfjsGraphToOnnx(await readTfjsGraphModel(await writeTinyGraph(GRAPH)), { name: 'tiny' });
  assert.throws(() => quantiseInt8(float, new Map()), /int8 quantisation: no calibrated range for 3 tensors: x\/nchw, a\/relu6, sum\/nchw/);
});
