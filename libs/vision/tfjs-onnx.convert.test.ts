import assert from 'node:assert/strict';
import test from 'node:test';
import { WalkoutError } from '../contracts/index.ts';
import { attr, floatToHalf, noise, runBoth, writeTinyGraph, type TinyGraph, type TinyTensor } from './tfjs-graph.fixture.ts';
import { halfToFloat, readTfjsGraphModel } from './tfjs-graph.read.ts';
import { convertTfjsGraphToOnnx } from './tfjs-onnx.convert.ts';

/**
 * Each op the converter translates, on a tiny graph written here, run on TF.js (WebAssembly) and on
 * ONNX Runtime after conversion: same shapes, same values (float32 arithmetic on both sides; 1e-5).
 */

const ints = (shape: number[], values: number[]): TinyTensor => ({ dtype: 'int32', shape, values });
const floats = (shape: number[], values: number[]): TinyTensor => ({ dtype: 'float32', shape, values });

async function agree(graph: TinyGraph, feeds: Record<string, TinyTensor>, tolerance = 1e-5) {
  for (const layout of ['nchw', 'per-op'] as const) {
    const { tfjs, onnx } = await runBoth(graph, feeds, layout);
    assert.equal(onnx.length, tfjs.length);
    tfjs.forEach((expected, k) => {
      assert.deepEqual(onnx[k].shape, expected.shape, `output ${k} shape (${layout})`);
      const worst = expected.values.reduce((w, v, i) => Math.max(w, Math.abs(v - onnx[k].values[i])), 0);
      assert.ok(worst <= tolerance, `output ${k} differs by ${worst} (${layout})`);
      // A graph whose output is constant would agree whatever the converter did.
      assert.ok(new Set(expected.values).size > 1 || expected.values.length === 1, `output ${k} varies`);
    });
  }
}

const image = (name = 'x', shape = [1, 6, 8, 4]) => ({ name, dtype: 'float32' as const, shape });
const T = { T: attr.type('float32') };

test('Conv2D fused with a bias and Relu6, SAME padding, stride 2, and a plain VALID Conv2D after it', async () => {
  await agree(
    {
      inputs: [image()],
      constants: { w1: noise([3, 3, 4, 5], 2), b1: noise([5], 3), w2: noise([2, 2, 5, 3], 4) },
      nodes: [
        {
          name: 'conv1',
          op: '_FusedConv2D',
          input: ['x', 'w1', 'b1'],
          attr: { ...T, strides: attr.ints([1, 2, 2, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME'), fused_ops: attr.strings(['BiasAdd', 'Relu6']), num_args: attr.i(1) },
        },
        { name: 'conv2', op: 'Conv2D', input: ['conv1', 'w2'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('VALID') } },
      ],
      outputs: ['conv2'],
    },
    { x: noise([1, 6, 8, 4], 5) },
  );
});

test('depthwise convolution with a channel multiplier, fused bias and Relu, and a plain one', async () => {
  await agree(
    {
      inputs: [image()],
      constants: { w1: noise([3, 3, 4, 2], 6), b1: noise([8], 7), w2: noise([3, 3, 8, 1], 8) },
      nodes: [
        {
          name: 'dw1',
          op: 'FusedDepthwiseConv2dNative',
          input: ['x', 'w1', 'b1'],
          attr: { ...T, strides: attr.ints([1, 2, 2, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME'), fused_ops: attr.strings(['BiasAdd', 'Relu']), num_args: attr.i(1) },
        },
        { name: 'dw2', op: 'DepthwiseConv2dNative', input: ['dw1', 'w2'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') } },
      ],
      outputs: ['dw2'],
    },
    { x: noise([1, 6, 8, 4], 9) },
  );
});

test('a residual add between convolutions, Relu6 on its own, and weights quantised to float16 and to uint8', async () => {
  const graph: TinyGraph = {
    inputs: [image()],
    constants: { w1: noise([1, 1, 4, 4], 10), w2: noise([3, 3, 4, 4], 11), six: floats([], [6]) },
    nodes: [
      { name: 'a', op: 'Conv2D', input: ['x', 'w1'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') } },
      { name: 'b', op: 'Conv2D', input: ['a', 'w2'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') } },
      { name: 'sum', op: 'AddV2', input: ['a', 'b'], attr: T },
      { name: 'scaled', op: 'Mul', input: ['sum', 'six'], attr: T },
      { name: 'relu6', op: 'Relu6', input: ['scaled'], attr: T },
      { name: 'c', op: 'Conv2D', input: ['relu6', 'w1'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') } },
    ],
    outputs: ['c', 'relu6'],
  };
  await agree(graph, { x: noise([1, 6, 8, 4], 12) });
  await agree({ ...graph, quantise: 'float16' }, { x: noise([1, 6, 8, 4], 12) });
  await agree({ ...graph, quantise: 'uint8' }, { x: noise([1, 6, 8, 4], 12) });
});

test('bilinear resize, half-pixel centres and aligned corners, nearest neighbour, sizes computed from the shape', async () => {
  const resizeAttrs = (halfPixel: boolean, alignCorners: boolean) => ({ ...T, half_pixel_centers: attr.b(halfPixel), align_corners: attr.b(alignCorners) });
  await agree(
    {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, -1, -1, 3] }],
      constants: { begin: ints([1], [1]), end: ints([1], [3]), stride: ints([1], [1]), two: ints([], [2]), fixed: ints([2], [7, 5]) },
      nodes: [
        { name: 'shape', op: 'Shape', input: ['x'], attr: { ...T, out_type: attr.type('int32') } },
        {
          name: 'hw',
          op: 'StridedSlice',
          input: ['shape', 'begin', 'end', 'stride'],
          attr: { T: attr.type('int32'), Index: attr.type('int32'), begin_mask: attr.i(0), end_mask: attr.i(0), shrink_axis_mask: attr.i(0), new_axis_mask: attr.i(0), ellipsis_mask: attr.i(0) },
        },
        { name: 'size', op: 'Mul', input: ['hw', 'two'], attr: { T: attr.type('int32') } },
        { name: 'up', op: 'ResizeBilinear', input: ['x', 'size'], attr: resizeAttrs(true, false) },
        { name: 'corners', op: 'ResizeBilinear', input: ['x', 'fixed'], attr: resizeAttrs(false, true) },
        { name: 'nearest', op: 'ResizeNearestNeighbor', input: ['x', 'size'], attr: resizeAttrs(false, false) },
      ],
      outputs: ['up', 'corners', 'nearest'],
    },
    { x: noise([1, 3, 4, 3], 13) },
  );
});

test('concat, max pool, sigmoid, split, pack and unpack', async () => {
  await agree(
    {
      inputs: [image('x', [1, 4, 6, 2]), image('y', [1, 4, 6, 3])],
      constants: { axis: ints([], [-1]), splitAxis: ints([], [3]) },
      nodes: [
        { name: 'cat', op: 'ConcatV2', input: ['x', 'y', 'axis'], attr: { ...T, N: attr.i(2) } },
        { name: 'pool', op: 'MaxPool', input: ['cat'], attr: { ...T, ksize: attr.ints([1, 3, 3, 1]), strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME') } },
        { name: 'sig', op: 'Sigmoid', input: ['pool'], attr: T },
        { name: 'parts', op: 'Unpack', input: ['sig'], attr: { ...T, num: attr.i(4), axis: attr.i(1) } },
        { name: 'packed', op: 'Pack', input: ['parts:3', 'parts:0'], attr: { ...T, N: attr.i(2), axis: attr.i(2) } },
        { name: 'halves', op: 'Split', input: ['splitAxis', 'cat'], attr: { ...T, num_split: attr.i(1) } },
      ],
      outputs: ['packed', 'halves'],
    },
    { x: noise([1, 4, 6, 2], 14), y: noise([1, 4, 6, 3], 15) },
  );
});

test('strided slices with begin, end, shrink and new-axis masks, and negative strides', async () => {
  const slice = (name: string, begin: number[], end: number[], strides: number[], masks: Record<string, number>) => ({
    constants: { [`${name}/b`]: ints([begin.length], begin), [`${name}/e`]: ints([end.length], end), [`${name}/s`]: ints([strides.length], strides) },
    node: {
      name,
      op: 'StridedSlice',
      input: ['x', `${name}/b`, `${name}/e`, `${name}/s`],
      attr: {
        ...T,
        Index: attr.type('int32'),
        begin_mask: attr.i(masks.begin ?? 0),
        end_mask: attr.i(masks.end ?? 0),
        shrink_axis_mask: attr.i(masks.shrink ?? 0),
        new_axis_mask: attr.i(masks.newAxis ?? 0),
        ellipsis_mask: attr.i(0),
      },
    },
  });
  const slices = [
    slice('s1', [0, 1, 0], [0, 3, 0], [1, 1, 2], { begin: 0b101, end: 0b101 }),
    slice('s2', [0, -1], [0, 0], [1, 1], { begin: 1, end: 1, shrink: 0b10 }),
    slice('s3', [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], { begin: 0b1011, end: 0b1011, newAxis: 0b0100 }),
    slice('s4', [0, 3, 0], [0, 0, 0], [1, -1, -1], { begin: 0b101, end: 0b111 }),
  ];
  await agree(
    {
      inputs: [image('x', [2, 5, 4])],
      constants: Object.assign({}, ...slices.map((s) => s.constants)),
      nodes: slices.map((s) => s.node),
      outputs: slices.map((s) => s.node.name),
    },
    { x: noise([2, 5, 4], 16) },
  );
});

test('the post-processing ops: top-k, gather, argmax, floor division of negative numbers, select, reductions, reshape, tile, fill, range', async () => {
  const I = { T: attr.type('int32') };
  await agree(
    {
      inputs: [image('x', [1, 3, 4]), { name: 'n', dtype: 'int32', shape: [5] }],
      constants: {
        k: ints([], [3]),
        last: ints([], [-1]),
        axes: ints([1], [1]),
        flat: ints([2], [3, 4]),
        idx: ints([2, 2], [0, 1, 2, 3]),
        three: ints([], [3]),
        reps: ints([2], [1, 2]),
        dims: ints([2], [3, 2]),
        half: floats([], [0.5]),
        start: ints([], [1]),
        step: ints([], [2]),
        zero: floats([], [0]),
      },
      nodes: [
        { name: 'rows', op: 'Reshape', input: ['x', 'flat'], attr: T },
        { name: 'top', op: 'TopKV2', input: ['rows', 'k'], attr: { ...T, sorted: attr.b(true) } },
        { name: 'topIndex', op: 'Cast', input: ['top:1'], attr: { SrcT: attr.type('int32'), DstT: attr.type('float32') } },
        { name: 'gathered', op: 'GatherNd', input: ['rows', 'idx'], attr: { Tparams: attr.type('float32'), Tindices: attr.type('int32') } },
        { name: 'best', op: 'ArgMax', input: ['rows', 'last'], attr: { ...T, output_type: attr.type('int32') } },
        { name: 'fdiv', op: 'FloorDiv', input: ['n', 'three'], attr: I },
        { name: 'positive', op: 'Greater', input: ['rows', 'zero'], attr: T },
        { name: 'kept', op: 'Select', input: ['positive', 'rows', 'tiled'], attr: T },
        { name: 'tiled', op: 'Tile', input: ['filled', 'reps'], attr: T },
        { name: 'filled', op: 'Fill', input: ['dims', 'half'], attr: T },
        { name: 'sum', op: 'Sum', input: ['x', 'axes'], attr: { ...T, keep_dims: attr.b(true) } },
        { name: 'max', op: 'Max', input: ['x', 'axes'], attr: { ...T, keep_dims: attr.b(false) } },
        { name: 'range', op: 'Range', input: ['start', 'n5', 'step'], attr: { Tidx: attr.type('int32') } },
        { name: 'n5', op: 'Size', input: ['x'], attr: { ...T, out_type: attr.type('int32') } },
        { name: 'sq', op: 'SquaredDifference', input: ['sum', 'max'], attr: T },
        { name: 'addn', op: 'AddN', input: ['rows', 'kept', 'rows'], attr: { ...T, N: attr.i(3) } },
      ],
      outputs: ['top', 'topIndex', 'gathered', 'best', 'fdiv', 'kept', 'sum', 'max', 'range', 'sq', 'addn'],
    },
    { x: noise([1, 3, 4], 17), n: ints([5], [-7, -3, 0, 4, 8]) },
  );
});

test('what NanoDet (exported from an NCHW framework) uses: transposes round a convolution, pads, LeakyRelu, SplitV, SparseToDense of constants', async () => {
  const I = { T: attr.type('int32') };
  await agree(
    {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 6, 8] }],
      constants: {
        toNhwc: ints([4], [0, 2, 3, 1]),
        toNchw: ints([4], [0, 3, 1, 2]),
        swap: ints([4], [0, 2, 1, 3]),
        paddings: ints([4, 2], [0, 0, 0, 0, 1, 2, 2, 1]),
        nhwcPaddings: ints([4, 2], [0, 0, 1, 1, 0, 1, 0, 0]),
        fill: floats([], [-0.75]),
        w: noise([3, 3, 4, 5], 21),
        sizes: ints([2], [2, 3]),
        axis: ints([], [1]),
        where: ints([2, 1], [0, 2]),
        denseShape: ints([1], [3]),
        denseValues: ints([2], [5, -1]),
        zero: ints([], [1]),
      },
      nodes: [
        { name: 'padded', op: 'Pad', input: ['x', 'paddings'], attr: { ...T, Tpaddings: attr.type('int32') } },
        { name: 'nhwc', op: 'Transpose', input: ['padded', 'toNhwc'], attr: { ...T, Tperm: attr.type('int32') } },
        { name: 'padded2', op: 'PadV2', input: ['nhwc', 'nhwcPaddings', 'fill'], attr: { ...T, Tpaddings: attr.type('int32') } },
        { name: 'conv', op: 'Conv2D', input: ['padded2', 'w'], attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('VALID') } },
        { name: 'nchw', op: 'Transpose', input: ['conv', 'toNchw'], attr: { ...T, Tperm: attr.type('int32') } },
        { name: 'leaky', op: 'LeakyRelu', input: ['nchw'], attr: { ...T, alpha: attr.f(0.1) } },
        { name: 'parts', op: 'SplitV', input: ['leaky', 'sizes', 'axis'], attr: { ...T, Tlen: attr.type('int32'), num_split: attr.i(2) } },
        { name: 'swapped', op: 'Transpose', input: ['parts:1', 'swap'], attr: { ...T, Tperm: attr.type('int32') } },
        { name: 'shape', op: 'SparseToDense', input: ['where', 'denseShape', 'denseValues', 'zero'], attr: { T: attr.type('int32'), Tindices: attr.type('int32'), validate_indices: attr.b(true) } },
        { name: 'reshaped', op: 'Reshape', input: ['parts', 'shape'], attr: { ...T, Tshape: attr.type('int32') } },
      ],
      outputs: ['reshaped', 'swapped'],
    },
    { x: noise([1, 4, 6, 8], 22) },
  );
});

test('the top-down models convert: NanoDet (person boxes) and MoveNet SinglePose Thunder, every op translated', async () => {
  for (const [file, atLeast] of [['nanodet.json', 7e6], ['movenet-thunder.json', 12e6]] as const) {
    const model = await readTfjsGraphModel(new URL(`../../models/${file}`, import.meta.url).pathname);
    const bytes = convertTfjsGraphToOnnx(model, { name: file });
    assert.ok(bytes.byteLength > atLeast, `${file}: ${bytes.byteLength} bytes, every weight is in`);
  }
});

test('MoveNet itself: the vendored model converts and every op it uses is translated', async () => {
  const model = await readTfjsGraphModel(new URL('../../models/movenet-multipose.json', import.meta.url).pathname);
  const bytes = convertTfjsGraphToOnnx(model, { name: 'movenet' });
  assert.ok(bytes.byteLength > 9e6, `${bytes.byteLength} bytes: every weight is in`);
});

test('unknown ops are refused by name, every one with the nodes that use it, before anything is written', async () => {
  const modelPath = await writeTinyGraph({
    inputs: [image('x', [1, 2, 2, 1])],
    constants: {},
    nodes: [
      { name: 'a', op: 'Erf', input: ['x'], attr: T },
      { name: 'b', op: 'Erf', input: ['a'], attr: T },
      { name: 'c', op: 'Cumsum', input: ['b'], attr: T },
      { name: 'd', op: 'Relu', input: ['c'], attr: T },
      { name: 'unused', op: 'Lgamma', input: ['x'], attr: T },
    ],
    outputs: ['d'],
  });
  const model = await readTfjsGraphModel(modelPath);
  assert.throws(
    () => convertTfjsGraphToOnnx(model, { name: 'tiny' }),
    (error: WalkoutError) => {
      assert.equal(error.code, 'MODEL_UNSUPPORTED');
      assert.match(error.message, /Cumsum is not an op the converter translates: c\n/);
      assert.match(error.message, /Erf is not an op the converter translates: a, b$/);
      // An op the outputs do not need does not stop the conversion.
      assert.doesNotMatch(error.message, /Lgamma/);
      return true;
    },
  );
});

test('translated ops with attributes the converter does not translate are refused by name too', async () => {
  const modelPath = await writeTinyGraph({
    inputs: [image('x', [1, 4, 4, 2])],
    constants: { w: noise([1, 1, 2, 2], 1), b: noise([2], 2) },
    nodes: [
      {
        name: 'elu',
        op: '_FusedConv2D',
        input: ['x', 'w', 'b'],
        attr: { ...T, strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s('NHWC'), padding: attr.s('SAME'), fused_ops: attr.strings(['BiasAdd', 'Elu']), num_args: attr.i(1) },
      },
      { name: 'nchw', op: 'MaxPool', input: ['elu'], attr: { ...T, ksize: attr.ints([1, 1, 2, 2]), strides: attr.ints([1, 1, 1, 1]), padding: attr.s('VALID'), data_format: attr.s('NCHW') } },
      { name: 'after', op: 'Relu', input: ['nchw'], attr: T },
    ],
    outputs: ['after'],
  });
  const model = await readTfjsGraphModel(modelPath);
  assert.throws(
    () => convertTfjsGraphToOnnx(model, { name: 'tiny' }),
    (error: WalkoutError) => {
      assert.equal(error.code, 'MODEL_UNSUPPORTED');
      assert.match(error.message, /_FusedConv2D fuses the activation Elu.*: elu[\s\S]*MaxPool has data_format NCHW.*: nchw/);
      // A node that only reads a refused one is not blamed for it.
      assert.doesNotMatch(error.message, /after/);
      return true;
    },
  );
});

test('half floats: encoded and decoded exactly for normal values, zero, infinity', () => {
  for (const value of [0, 1, -2.5, 0.333251953125, 65504, 6.103515625e-5]) assert.equal(halfToFloat(floatToHalf(value)), value);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.equal(halfToFloat(0x0001), 2 ** -24);
});
