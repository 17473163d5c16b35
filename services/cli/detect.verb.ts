import path from 'node:path';
import sharp from 'sharp';
import { COCO_KEYPOINTS, WalkoutError } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { optionalInt, report, type Verb } from '../../libs/cli/verb.ts';
import type { RgbFrame } from '../../libs/video/rgb.frame.ts';
import { readStill, type Still } from '../../libs/video/still.read.ts';
import { createChosenDetector, detectorKeys } from '../../libs/vision/detector.registry.ts';
import type { DetectedPose } from '../../libs/vision/pose.detector.ts';
import { drawBoxes, drawPoses } from '../../libs/vision/pose.overlay.ts';

const USAGE = `walkout detect <image|video> [--at SECONDS] [--model ${detectorKeys.join('|')}] [--input-size 640]
                [--mirror on|off] [--out overlay.png] [--force] [--json]

Finds the people in one picture: a still image (PNG, JPEG, WebP, ...) or the frame of a video
(.mp4, .mov, .mkv, .avi, .webm) shown at --at seconds, and prints each person's score, box and 17
COCO keypoints, best first. Coordinates are pixels of the input picture (x to the right, y down,
from its top-left corner); each keypoint is [x, y, score], score from 0 to 1, in COCO order:
${COCO_KEYPOINTS.map((name, k) => `${k} ${name}`).join(', ')}.

  --at S          the time in a video, seconds from its start (default 0): the frame shown then
  --model M       the detector: ${detectorKeys.join(', ')} (default: onnx, MoveNet MultiPose on ONNX Runtime,
                  or movenet on TF.js when ONNX Runtime cannot load; see docs/stages/pose.md)
  --input-size S  the model input's longer side, a multiple of 32 (default 640)
  --mirror M      on (default): read the picture a second time mirrored and merge; off: one reading
  --out F         write the picture with every person drawn over it (PNG): keypoints scored 0.2 or
                  more joined by the COCO skeleton, and each person's box
  --force         replace what --out names even if it is not a picture
  --json          print exactly {"poses": [{"score", "box": [x, y, width, height], "keypoints": [[x, y, score] x 17]}]}`;

const POSE_COLOUR: [number, number, number] = [255, 40, 255];
const BOX_COLOUR: [number, number, number] = [40, 220, 255];
/** Keypoints drawn and listed from this score: the score keypoint recall counts from. */
const SHOWN_KEYPOINT_SCORE = 0.2;

/** Rounded for print: a hundredth of a pixel, a thousandth of a score. */
function printedPose(pose: DetectedPose) {
  const px = (v: number) => Math.round(v * 100) / 100;
  const score = (v: number) => Math.round(v * 1000) / 1000;
  return {
    score: score(pose.score),
    box: pose.box.map(px) as [number, number, number, number],
    keypoints: pose.keypoints.map(([x, y, s]) => [px(x), px(y), score(s)] as [number, number, number]),
  };
}

function parseAt(values: Record<string, unknown>): number | undefined {
  if (values.at === undefined) return undefined;
  const at = typeof values.at === 'string' && values.at.trim() !== '' ? Number(values.at) : Number.NaN;
  if (!Number.isFinite(at) || at < 0) throw new WalkoutError('USAGE', `walkout detect: --at takes seconds from the start of the video, 0 or more, not ${JSON.stringify(values.at)}`);
  return at;
}

function describe(file: string, still: Still, poses: ReturnType<typeof printedPose>[], model: string, wrote: string | undefined): string {
  const where = still.video ? `${file} at ${still.video.seconds.toFixed(3)} s (frame ${still.video.frameIndex})` : file;
  const lines = [`${where}, ${still.frame.width}x${still.frame.height}: ${poses.length} ${poses.length === 1 ? 'person' : 'people'} (${model})`];
  poses.forEach((pose, i) => {
    const [x, y, w, h] = pose.box;
    lines.push(`  ${i + 1}. score ${pose.score.toFixed(2)}, box x ${x.toFixed(0)} y ${y.toFixed(0)} w ${w.toFixed(0)} h ${h.toFixed(0)}`);
    const shown = pose.keypoints.flatMap(([kx, ky, s], k) => (s >= SHOWN_KEYPOINT_SCORE ? [`${COCO_KEYPOINTS[k]} (${kx.toFixed(0)}, ${ky.toFixed(0)}) ${s.toFixed(2)}`] : []));
    lines.push(`     ${shown.length ? shown.join(', ') : `no keypoint scored ${SHOWN_KEYPOINT_SCORE} or more`}`);
  });
  if (wrote) lines.push(`wrote ${wrote}`);
  return lines.join('\n');
}

async function writeOverlay(into: string, frame: RgbFrame, poses: DetectedPose[]): Promise<void> {
  const withBoxes = drawBoxes(frame, poses.map((p) => p.box), BOX_COLOUR);
  const drawn = drawPoses(withBoxes, poses.map((p) => ({ keypoints: p.keypoints, colour: POSE_COLOUR, minScore: SHOWN_KEYPOINT_SCORE })));
  await sharp(drawn.data, { raw: { width: drawn.width, height: drawn.height, channels: 3 } }).png().toFile(into);
}

export const detectVerb: Verb = {
  name: 'detect',
  summary: 'Find the people in one image or video frame: score, box and 17 keypoints each, with an overlay picture.',
  usage: USAGE,
  options: {
    at: { type: 'string' },
    model: { type: 'string' },
    'input-size': { type: 'string' },
    mirror: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout detect: give one image or video\n\n${USAGE}`);
    const [file] = positionals;
    const at = parseAt(values);
    if (values.mirror !== undefined && values.mirror !== 'on' && values.mirror !== 'off')
      throw new WalkoutError('USAGE', `walkout detect: --mirror must be on or off, got "${values.mirror}"`);
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (out !== undefined && path.extname(out).toLowerCase() !== '.png') throw new WalkoutError('USAGE', `walkout detect: --out writes a PNG, so its name ends in .png, not ${JSON.stringify(out)}`);
    const output = out
      ? await prepareOutput({ verb: detectVerb.name, option: '--out', target: out, kind: outputKinds.picture, inputs: { '<image|video>': file }, force: values.force === true })
      : undefined;
    const still = await readStill(file, at);
    const { detector, fellBack } = await createChosenDetector(
      { detector: values.model as string | undefined, inputSize: optionalInt(values, 'input-size', detectVerb, 640, { min: 32, max: 1280 }), refine: 'none', mirror: values.mirror !== 'off' },
      'walkout detect',
      '--model',
    );
    if (fellBack && values.json !== true) process.stderr.write(`pose detection on TF.js: ${fellBack}\n`);
    let poses: DetectedPose[];
    try {
      poses = await detector.detect(still.frame);
    } finally {
      detector.dispose();
    }
    if (output) await output.write((into) => writeOverlay(into, still.frame, poses));
    const printed = poses.map(printedPose);
    report(values.json === true, { poses: printed }, () => describe(file, still, printed, detector.model, out));
  },
};
