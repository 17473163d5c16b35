import assert from 'node:assert/strict';
import test from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { needsExactIntegerKernels, onnxSessionOptions } from './onnx.detector.ts';

/**
 * The int8 models' convolutions run as ONNX Runtime's QLinearConv (uint8 inputs, int8 weights). On
 * x64 CPUs without VNNI its kernel adds two products at a time into int16, which saturates at 32767:
 * inputs at the top of their range against large weights of one sign, as a bright frame gives the
 * first convolution, come out as half of what they are. A session opened as walkout opens them
 * computes them exactly on any CPU.
 */

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const CHANNELS = 8;
const INPUT_LEVEL = 255;
const WEIGHT_LEVEL = 127;
/** The output's scale: the exact sum, 8 x 255 x 127, is level 127 of it. */
const OUTPUT_SCALE = 2040;

/** One 1x1 QLinearConv over CHANNELS uint8 inputs, every weight WEIGHT_LEVEL, scales 1 but the output's. */
function saturatingConvolution(): Uint8Array {
  const scalar = (name: string, dataType: number, value: number) =>
    dataType === DataType.FLOAT ? { name, dataType, dims: [], floatData: [value] } : { name, dataType, dims: [], rawData: Uint8Array.of(value) };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'saturating-convolution',
      node: [{ opType: 'QLinearConv', name: 'conv', input: ['x', 'x_scale', 'x_zero', 'w', 'w_scale', 'w_zero', 'y_scale', 'y_zero'], output: ['y'] }],
      initializer: [
        scalar('x_scale', DataType.FLOAT, 1),
        scalar('x_zero', DataType.UINT8, 0),
        { name: 'w', dataType: DataType.INT8, dims: [1, CHANNELS, 1, 1], rawData: new Uint8Array(CHANNELS).fill(WEIGHT_LEVEL) },
        scalar('w_scale', DataType.FLOAT, 1),
        scalar('w_zero', DataType.INT8, 0),
        scalar('y_scale', DataType.FLOAT, OUTPUT_SCALE),
        scalar('y_zero', DataType.UINT8, 0),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.UINT8, shape: { dim: [1, CHANNELS, 4, 4].map((dimValue) => ({ dimValue })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: DataType.UINT8 } } }],
    },
  }).finish();
}

test('an int8 convolution whose products overflow int16 in pairs is exact in a session opened as walkout opens them, on any x64 CPU', async () => {
  const session = await ort.InferenceSession.create(saturatingConvolution(), onnxSessionOptions(1));
  try {
    const { y } = await session.run({ x: new ort.Tensor('uint8', new Uint8Array(CHANNELS * 16).fill(INPUT_LEVEL), [1, CHANNELS, 4, 4]) });
    const exact = Math.round((CHANNELS * INPUT_LEVEL * WEIGHT_LEVEL) / OUTPUT_SCALE);
    assert.deepEqual([...(y.data as Uint8Array)], new Array(16).fill(exact), 'saturated in int16, each pair of products gives 32767 and the output half of it');
  } finally {
    await session.release();
  }
});

test('exact integer kernels are asked for on x64 without VNNI, or when the flags are unknown; not with VNNI, nor off x64', () => {
  const flags = (...names: string[]) => new Set(['sse4_2', 'avx2', ...names]);
  assert.equal(needsExactIntegerKernels('x64', flags()), true, 'AVX2 only (this session\'s AMD EPYC)');
  assert.equal(needsExactIntegerKernels('x64', flags('avx512f', 'avx512bw')), true, 'AVX-512 without VNNI');
  assert.equal(needsExactIntegerKernels('x64', flags('avx512f', 'avx512_vnni')), false);
  assert.equal(needsExactIntegerKernels('x64', flags('avx_vnni')), false);
  assert.equal(needsExactIntegerKernels('x64', undefined), true, 'no /proc/cpuinfo: the safe kernels');
  assert.equal(needsExactIntegerKernels('arm64', undefined), false, 'the option is for x64 kernels only');
});
