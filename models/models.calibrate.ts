/**
 * Writes the activation ranges the int8 models of models/ are quantised over
 * (libs/vision/onnx.models.ts, `int8Ranges`): the float model run by ONNX Runtime on calibration
 * frames, each quantised tensor's min and max over all of them. Then `npm run models` writes the
 * int8 model from the float one and these ranges, the same bytes on any machine.
 *
 *   node --import tsx models/models.calibrate.ts
 *
 * Calibration frames: every 60th frame of the committed demo's six cameras (simulated kiosk
 * footage, 640x480, as the camera service reads it whole) and of the street video fixture (real
 * people, letterboxed to 640 as the detector does).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readVideoFrames } from '../libs/video/mp4.reader.ts';
import { resizeAreaInt32 } from '../libs/vision/image.resize.ts';
import { movenetInputGeometry } from '../libs/vision/movenet.detector.ts';
import { buildOnnxModel, MODELS_DIR, onnxModelBuilds } from '../libs/vision/onnx.models.ts';
import { quantisedActivations, withOutputs } from '../libs/vision/onnx.quantise.ts';

const INPUT_SIZE = 640;
const EVERY = 60;
const VIDEOS = [1, 2, 3, 4, 5, 6].map((k) => `fixtures/recordings/kiosk-demo/cameras/cam-${k}.mp4`).concat('fixtures/video/people-walking.mp4');

for (const build of onnxModelBuilds.filter((b) => b.int8Ranges)) {
  const float = onnxModelBuilds.find((b) => b.source === build.source && !b.int8Ranges)!;
  const { bytes } = await buildOnnxModel(float);
  const tensors = quantisedActivations(bytes, build.int8Options);
  const session = await ort.InferenceSession.create(withOutputs(bytes, tensors), { intraOpNumThreads: 1, graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
  const ranges = new Map(tensors.map((t) => [t, [Infinity, -Infinity] as [number, number]]));
  let frames = 0;
  for (const video of VIDEOS)
    for await (const frame of readVideoFrames(video, { every: EVERY })) {
      const g = movenetInputGeometry(frame.width, frame.height, INPUT_SIZE);
      const pixels = resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight);
      const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('int32', pixels, [1, g.paddedHeight, g.paddedWidth, 3]) });
      for (const [name, range] of ranges)
        for (const value of outputs[name].data as Float32Array) {
          if (value < range[0]) range[0] = value;
          if (value > range[1]) range[1] = value;
        }
      frames++;
    }
  await session.release();
  const file = path.join(MODELS_DIR, build.int8Ranges!);
  const json = { model: float.file, frames, inputSize: INPUT_SIZE, videos: VIDEOS, every: EVERY, ranges: Object.fromEntries(ranges) };
  await writeFile(file, `${JSON.stringify(json, null, 1)}\n`);
  console.log(`${build.int8Ranges}: ${tensors.length} tensors over ${frames} frames`);
}
