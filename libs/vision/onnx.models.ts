import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTfjsGraphModel } from './tfjs-graph.read.ts';
import { quantiseInt8, type QuantiseOptions } from './onnx.quantise.ts';
import { convertTfjsGraphToOnnx, ONNX_OPSET } from './tfjs-onnx.convert.ts';

/**
 * The ONNX models walkout ships: each converted from a TF.js graph model of models/ by
 * `npm run models` (models/models.build.ts), with a manifest that says where it came from.
 */

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export interface OnnxModelBuild {
  key: string;
  /** The TF.js manifest in models/ of the graph it is converted from (its source, licence, sha256). */
  source: string;
  file: string;
  manifest: string;
  /** The ONNX input's shape as the manifest gives it (free dimensions named as the converter names them). */
  inputShape: Array<number | string>;
  /**
   * Convolutions in int8 (onnx.quantise.ts), activations over the ranges this file of models/
   * holds (written by models/models.calibrate.ts from the float model's runs on calibration frames).
   */
  int8Ranges?: string;
  /** With int8Ranges: how far the quantisation goes (onnx.quantise.ts); by default the convolutions' inputs only, as the first int8 model. */
  int8Options?: QuantiseOptions;
}

/**
 * MoveNet's heads whose last convolutions' outputs the decoding reads as distances: keypoint
 * offsets and regressions from a person's centre, box offsets and sizes. The keypoint heatmaps and
 * the centre heatmap stay float.
 */
const MOVENET_DISTANCE_HEADS = ['kpt_regress_0/conv2d_8', 'kpt_offset_0/conv2d_9', 'box_offset_0/conv2d_6', 'box_scale_0/conv2d_5'].map(
  (head) => `StatefulPartitionedCall/${head}/BiasAdd/nchw`,
);

export const onnxModelBuilds: OnnxModelBuild[] = [
  {
    key: 'movenet-multipose-lightning',
    source: 'movenet-multipose.manifest.json',
    file: 'movenet-multipose.onnx',
    manifest: 'movenet-multipose.onnx.manifest.json',
    inputShape: [1, 'input_1', 'input_2', 3],
  },
  {
    // The convolutions' inputs quantised; the input pixels read as the levels their normalisation
    // quantised to, without the float passes of the normalisation: the same outputs, to the bit,
    // for about a tenth less CPU a pass (docs/experiments/start-at-store-speed.md).
    key: 'movenet-multipose-lightning-int8',
    source: 'movenet-multipose.manifest.json',
    file: 'movenet-multipose-int8.onnx',
    manifest: 'movenet-multipose-int8.onnx.manifest.json',
    inputShape: [1, 'input_1', 'input_2', 3],
    int8Ranges: 'movenet-multipose-int8.ranges.json',
    int8Options: { pixelsAsLevels: 'exact' },
  },
  {
    // Integer kernels throughout the backbone and the heads that give distances, the input read as
    // its own levels: 1.3 to 1.6 times less CPU than the int8 build, a few wrists and a receipt
    // fewer on the demo (docs/experiments/integer-kernels.md); not the default.
    key: 'movenet-multipose-lightning-int8-fused',
    source: 'movenet-multipose.manifest.json',
    file: 'movenet-multipose-int8-fused.onnx',
    manifest: 'movenet-multipose-int8-fused.onnx.manifest.json',
    inputShape: [1, 'input_1', 'input_2', 3],
    int8Ranges: 'movenet-multipose-int8-fused.ranges.json',
    int8Options: { throughIdentities: true, pixelsAsLevels: 'nearest', outputs: MOVENET_DISTANCE_HEADS },
  },
  {
    key: 'nanodet',
    source: 'nanodet.manifest.json',
    file: 'nanodet.onnx',
    manifest: 'nanodet.onnx.manifest.json',
    inputShape: [1, 3, 416, 416],
  },
  {
    key: 'movenet-singlepose-thunder',
    source: 'movenet-thunder.manifest.json',
    file: 'movenet-thunder.onnx',
    manifest: 'movenet-thunder.onnx.manifest.json',
    inputShape: [1, 256, 256, 3],
  },
];

function describeOptions(options: QuantiseOptions): string {
  return [
    options.throughIdentities && 'every residual Add\'s inputs',
    options.outputs?.length && `${options.outputs.length} heads' outputs`,
    options.pixelsAsLevels === 'nearest' && 'the input pixels read as their own levels',
    options.pixelsAsLevels === 'exact' && 'the input pixels read as the levels QuantizeLinear gives them, clamped',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Calibrated activation ranges, as models/models.calibrate.ts writes them: { tensor: [min, max] }. */
export async function readInt8Ranges(file: string): Promise<Map<string, [number, number]>> {
  const ranges = JSON.parse(await readFile(path.join(MODELS_DIR, file), 'utf8')) as { ranges: Record<string, [number, number]> };
  return new Map(Object.entries(ranges.ranges));
}

interface TfjsManifest {
  key: string;
  description: string;
  file: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
  origin: string;
  licence: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

/** The ONNX bytes of one build and its manifest, from the TF.js model in models/. */
export async function buildOnnxModel(build: OnnxModelBuild): Promise<{ bytes: Uint8Array; manifest: Record<string, unknown> }> {
  const source = JSON.parse(await readFile(path.join(MODELS_DIR, build.source), 'utf8')) as TfjsManifest;
  const graph = await readTfjsGraphModel(path.join(MODELS_DIR, source.file));
  const converted = convertTfjsGraphToOnnx(graph, { name: build.key });
  const ranges = build.int8Ranges ? await readInt8Ranges(build.int8Ranges) : undefined;
  const bytes = ranges ? quantiseInt8(converted, ranges, build.int8Options) : converted;
  const manifest = {
    key: build.key,
    description: `${source.description} Converted to ONNX.`,
    runtime: 'onnx',
    file: build.file,
    files: [{ path: build.file, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }],
    origin: source.origin,
    source: {
      converter: 'libs/vision/tfjs-onnx.convert.ts (npm run models)',
      opset: ONNX_OPSET,
      from: source.files,
      note: ranges
        ? `converted from the TF.js graph model of ${build.source}, then its convolutions quantised to int8 (weights per channel, activations${build.int8Options ? ` (${describeOptions(build.int8Options)})` : ''} over the ranges in ${build.int8Ranges}: libs/vision/onnx.quantise.ts)`
        : `converted from the TF.js graph model of ${build.source}; weights kept as the float16 they are stored in, cast to float32 when loaded`,
    },
    licence: source.licence,
    input: { ...source.input, shape: build.inputShape },
    output: source.output,
  };
  return { bytes, manifest };
}
