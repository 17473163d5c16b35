import { MIRRORED_KEYPOINTS, type DetectedPose } from './pose.detector.ts';

/**
 * Reading a frame twice, as it is and mirrored left to right. A pose model is no more sure of a
 * person than of their mirror image, but its errors in the two differ, and the mirrored reading
 * finds some people the direct one missed (commonly one half hidden behind a neighbour); the two
 * readings are merged with mergeReadings (readings.merge.ts). What it finds, measured on the
 * simulator's recordings: docs/experiments/mirrored-read.md.
 */

/**
 * Int32 RGB rows of `rowWidth` pixels with the first `contentWidth` of each row reversed (the rest,
 * a letterbox, stays where it is): the model input mirrored, with the same padding. Written into
 * `into` when it has the input's length (an array to reuse, whatever it holds).
 */
export function mirrorRowsInt32(pixels: Int32Array, rowWidth: number, contentWidth: number, into?: Int32Array): Int32Array {
  const out = into?.length === pixels.length ? into : new Int32Array(pixels.length);
  if (contentWidth < rowWidth) out.set(pixels);
  const rows = pixels.length / (rowWidth * 3);
  for (let y = 0; y < rows; y++) {
    const row = y * rowWidth * 3;
    for (let x = 0; x < contentWidth; x++) {
      const to = row + x * 3;
      const from = row + (contentWidth - 1 - x) * 3;
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
  }
  return out;
}

/**
 * A pose read in the mirrored image of a frame `width` pixels wide, put back in the frame: x
 * reflected, and left and right swapped (the person's left hand shows on the mirror's right).
 */
export function unmirrorPose(pose: DetectedPose, width: number): DetectedPose {
  const [bx, by, bw, bh] = pose.box;
  const reflected = pose.keypoints.map(([x, y, score]) => [width - x, y, score] as [number, number, number]);
  return { score: pose.score, box: [width - bx - bw, by, bw, bh], keypoints: MIRRORED_KEYPOINTS.map((k) => reflected[k]) };
}
