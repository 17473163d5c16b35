import path from 'node:path';
import sharp from 'sharp';
import { CameraPosesDetected, SCHEMA_VERSION, WalkoutError } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput, writeOutputs } from '../../libs/cli/output.ts';
import { progress } from '../../libs/cli/progress.ts';
import { optionalInt, report, type Verb } from '../../libs/cli/verb.ts';
import { JsonLinesWriter, openRecording, readJsonLines } from '../../libs/recording/index.ts';
import { evaluateFusion, type CameraInstant, type FloorTracking, type FusionEvalReport } from '../../libs/tracking/multiview.eval.ts';
import { createChosenDetector, parseLooks, parsePrecision } from '../../libs/vision/detector.registry.ts';
import { formatRecall, formatWristMisses } from '../../libs/vision/keypoint.recall.ts';
import { evaluatePoses } from '../../libs/vision/pose.eval.ts';
import { drawPoses } from '../../libs/vision/pose.overlay.ts';

const USAGE = `walkout eval pose <recording> [--camera id ...] [--frames N|all] [--input-size 640]
                 [--mirror on|off] [--refine upright|none] [--looks always|when-unsure] [--whole-every N]
                 [--precision int8|int8-fused|float]
                 [--detector onnx|movenet|topdown] [--overlay dir]
                 [--save-detections file.jsonl | --from-detections file.jsonl] [--force] [--json]

Decodes each camera's video in the recording, runs MoveNet MultiPose on N frames per camera spread over
the video (default 30), pairs the people it finds with the recording's 2D pose truth, and prints
keypoint recall per keypoint, for visible keypoints (v=2) and all keypoints in the image (v>=1), with
wrists in view reported on their own, and split between people apart from others in the image and
people whose box overlaps another person's (where one camera alone often sees one person for two).
With two or more cameras it also counts each wrist at each instant once across cameras: found by at
least one camera, and, among wrists two or more cameras see, found by at least two (triangulable).
It ends with wrists in view per person and each missed wrist put down to why (person not found,
other side, low score, near, far). With two or more cameras it then fuses them (libs/tracking): at
each instant the detections of all cameras are grouped into people by how well they triangulate,
their left and right made to agree, and each keypoint triangulated; every camera's view of those
people (its own detections with sides put right and gaps filled, plus people only other cameras
found) is scored the same way, and the 3D wrists against the 3D truth. When the frames scored are
at most a second apart, people are also followed over time (a walking person faces where they go,
one standing at a shelf faces the shelf, and everyone keeps their sides from one instant to the
next; at 10 frames a second each keypoint is also smoothed over 0.2 s) and scored again, and the
tracks are scored on the floor with the multi-object tracking metrics of walkout eval mot (MOTA,
IDF1, switches, ...; a track is a true person when they stand within 0.5 m; in the JSON under
fusion.tracked.floor). A keypoint is found when the model puts it within max(4 px, 0.2 x the
person's torso diagonal) with score >= 0.2 (about 11 cm at the person: see
libs/vision/keypoint.recall.ts for why).

  --camera id     score only this camera (repeatable); default every camera with pose truth
  --frames N      frames per camera, spread over the video (default 30); all: every frame, at the
                  camera's own rate, as a live tracker sees them (the crowd's 311 frames a camera
                  take about 15 minutes on two cores); with --from-detections, the same frames
                  picked from the saved ones (which must hold them: save with --frames all)
  --input-size S  model input's longer side, a multiple of 32 (default 640: full resolution of a 640x480 camera)
  --mirror M      on (default): read each frame a second time mirrored left to right and merge the
                  two readings person by person (twice the first pass's time; finds people the
                  first reading missed and averages keypoints both place close together);
                  off: one reading
  --refine R      upright (default): look again at each person the camera's calibration shows tilted
                  by 15 degrees or more, in a window turned so they stand upright (about 1.5 times
                  the time per frame in the crowd scene); none: one pass over the frame
  --looks L       always (default): the second looks on every frame and person; when-unsure: the
                  mirrored read only when the first reading found fewer people than the camera's
                  previous frame or scored a person or a wrist under 0.5, the upright look only at
                  such people (what the camera service runs live)
  --whole-every N read every N-th frame scored of a camera whole (its first too), the others only in
                  windows round the people its previous frame showed, as the camera service does
                  with the same option (default 1: every frame whole); meant for frames close in
                  time (--frames all, or half the frames)
  --precision P   with the onnx detector: int8-fused (default: integer kernels throughout, the least
                  CPU), int8 (only its convolutions in int8: a few wrists more for more CPU) or
                  float (the converted model exactly, keypoints within 1e-5 of TF.js)
  --detector D    onnx (default): MoveNet on ONNX Runtime; movenet: the same model on TF.js
                  (WebAssembly), the fallback when ONNX Runtime cannot load; topdown: NanoDet
                  person boxes, then SinglePose Thunder on each (--input-size, --mirror do not apply)
  --overlay dir   write each scored frame as a PNG: truth in green (hollow = hidden), detections in magenta
  --save-detections F  write what the model found in every scored frame to F, one CameraPosesDetected
                  event a line (what the camera service publishes on camera.poses-detected)
  --from-detections F  score the detections saved in F instead of decoding video and running the
                  model (seconds instead of minutes; --input-size, --mirror, --refine, --overlay
                  do not apply)
  --force         replace what --overlay or --save-detections names even if it is not what they
                  write (a folder of PNGs, a detections file); neither may lie inside the recording
  --json          print the report as JSON`;

const TRUTH_COLOUR: [number, number, number] = [40, 255, 40];
const DETECTION_COLOUR: [number, number, number] = [255, 40, 255];

export const evalPoseVerb: Verb = {
  name: 'eval pose',
  summary: 'Score the pose model against the 2D pose truth of a recording: keypoint recall, wrists in view.',
  usage: USAGE,
  options: {
    camera: { type: 'string', multiple: true },
    frames: { type: 'string' },
    'input-size': { type: 'string' },
    mirror: { type: 'string' },
    refine: { type: 'string' },
    looks: { type: 'string' },
    'whole-every': { type: 'string' },
    precision: { type: 'string' },
    detector: { type: 'string' },
    overlay: { type: 'string' },
    'save-detections': { type: 'string' },
    'from-detections': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout eval pose: give one recording folder\n\n${USAGE}`);
    if (typeof values.frames === 'string' && values.frames !== 'all' && !Number.isFinite(Number(values.frames)))
      throw new WalkoutError('USAGE', `walkout eval pose: --frames must be a number of frames or "all", got "${values.frames}"`);
    const fromFile = typeof values['from-detections'] === 'string' ? values['from-detections'] : undefined;
    // Saved detections are all scored unless --frames picks some of them.
    const framesPerCamera = values.frames === 'all' || (fromFile && values.frames === undefined) ? Infinity : optionalInt(values, 'frames', evalPoseVerb, 30);
    if (framesPerCamera < 1) throw new WalkoutError('USAGE', `walkout eval pose: --frames must be at least 1`);
    const wholeFrameEvery = optionalInt(values, 'whole-every', evalPoseVerb, 1, { min: 1, unit: 'frames' });
    const recording = await openRecording(positionals[0]);
    const cameraIds = values.camera as string[] | undefined;
    for (const id of cameraIds ?? [])
      if (!recording.manifest.truth.poses?.[id])
        throw new WalkoutError('USAGE', `walkout eval pose: ${positionals[0]} has no pose truth for camera ${id}`);
    const saveFile = typeof values['save-detections'] === 'string' ? values['save-detections'] : undefined;
    if (fromFile)
      for (const option of ['input-size', 'mirror', 'refine', 'looks', 'whole-every', 'precision', 'detector', 'overlay', 'save-detections'] as const)
        if (values[option] !== undefined) throw new WalkoutError('USAGE', `walkout eval pose: --${option} does not go with --from-detections (the saved file says which model)`);
    if (values.mirror !== undefined && values.mirror !== 'on' && values.mirror !== 'off')
      throw new WalkoutError('USAGE', `walkout eval pose: --mirror must be on or off, got "${values.mirror}"`);
    const overlayDir = typeof values.overlay === 'string' ? values.overlay : undefined;
    const inputs = { '<recording>': positionals[0], '--from-detections': fromFile };
    const force = values.force === true;
    const overlayOutput = overlayDir
      ? await prepareOutput({ verb: evalPoseVerb.name, option: '--overlay', target: overlayDir, kind: outputKinds.pictures, inputs, force })
      : undefined;
    const detectionsOutput = saveFile
      ? await prepareOutput({ verb: evalPoseVerb.name, option: '--save-detections', target: saveFile, kind: outputKinds.detections, inputs, force })
      : undefined;
    const saved = fromFile ? await loadDetections(fromFile) : undefined;
    if (values.refine !== undefined && values.refine !== 'upright' && values.refine !== 'none')
      throw new WalkoutError('USAGE', `walkout eval pose: --refine must be upright or none, got "${values.refine}"`);
    const chosen = saved
      ? undefined
      : await createChosenDetector(
          {
            detector: values.detector as string | undefined,
            inputSize: optionalInt(values, 'input-size', evalPoseVerb, 640),
            refine: values.refine === 'none' ? 'none' : 'upright',
            mirror: values.mirror !== 'off',
            looks: parseLooks(values.looks, 'walkout eval pose'),
            precision: parsePrecision(values.precision, 'walkout eval pose'),
          },
          'walkout eval pose',
        );
    if (chosen?.fellBack && values.json !== true) process.stderr.write(`pose detection on TF.js: ${chosen.fellBack}\n`);
    const detector = chosen?.detector;
    const cameras = recording.manifest.streams.cameras.filter((c) => (!cameraIds || cameraIds.includes(c.cameraId)) && recording.manifest.truth.poses?.[c.cameraId]);
    const total =
      saved && !Number.isFinite(framesPerCamera)
        ? [...saved.byCamera].filter(([id]) => cameras.some((c) => c.cameraId === id)).reduce((n, [, events]) => n + events.length, 0)
        : cameras.reduce((n, c) => n + Math.min(c.frameCount, framesPerCamera), 0);
    const bar = progress('pose eval', total, { unit: 'frames', quiet: values.json === true });
    const instants: CameraInstant[] = [];
    try {
      // Both are written beside their targets and put in place only when the whole run succeeded.
      const { result, fusion } = await writeOutputs({ overlay: overlayOutput, detections: detectionsOutput }, async (into) => {
        const writer = into.detections ? new JsonLinesWriter<CameraPosesDetected>(into.detections) : undefined;
        try {
          const scored = await evaluatePoses(recording, {
            wholeFrameEvery,
            detector,
            saved,
            cameraIds,
            framesPerCamera,
            onScored(cameraId, truth, detections) {
              bar.tick();
              instants.push({ cameraId, ts: truth.ts, truth: truth.people, detections });
              writer?.write({
                schemaVersion: SCHEMA_VERSION,
                eventId: `${recording.manifest.storeId}/${cameraId}/${truth.frameIndex}`,
                storeId: recording.manifest.storeId,
                ts: truth.ts,
                cameraId,
                frameIndex: truth.frameIndex,
                model: detector!.model,
                poses: detections,
              });
            },
            async onFrame(cameraId, frame, truth, detections) {
              if (!into.overlay) return;
              const drawn = drawPoses(frame, [
                ...truth.people.map((p) => ({ keypoints: p.keypoints, colour: TRUTH_COLOUR, minScore: 1, hollowBelow: 2 })),
                ...detections.map((d) => ({ keypoints: d.keypoints, colour: DETECTION_COLOUR, minScore: 0.2 })),
              ]);
              await sharp(Buffer.from(drawn.data), { raw: { width: drawn.width, height: drawn.height, channels: 3 } })
                .png()
                .toFile(path.join(into.overlay, `${cameraId}-${String(frame.index).padStart(6, '0')}.png`));
            },
          });
          bar.done();
          return { result: scored, fusion: await evaluateFusion(recording, instants) };
        } finally {
          await writer?.close();
        }
      });
      report(values.json === true, { ...result, fusion }, () =>
        [
          `${positionals[0]}: ${result.model} on ${result.backend}`,
          ...result.cameras.map(
            (c) =>
              `  ${c.cameraId}: ${c.summary.frames} frames, ${c.msPerFrame.toFixed(0)} ms/frame, visible keypoints ${pct(c.summary.recallVisible)}, wrists in view ${pct(c.summary.wristsInView.recall)} (countable people ${pct(c.summary.countable.wristsInView.recall)})`,
          ),
          '',
          formatRecall(result.overall),
          ...(result.multiView
            ? [
                `the same wrist at the same instant across cameras: found by at least one camera ${result.multiView.foundByOne}/${result.multiView.inView} = ${pct(result.multiView.recallAny)}; ` +
                  `seen by two or more and found by at least two ${result.multiView.foundByTwo}/${result.multiView.inTwoViews} = ${pct(result.multiView.recallTwo)}`,
              ]
            : []),
          `wrists in view by person: ${result.wristsByPerson.map((p) => `${p.personId} ${p.found}/${p.total}`).join(', ')}`,
          ...(fusion ? ['', ...formatFusion(fusion, result.overall.wristsInView.recall)] : []),
        ].join('\n'),
      );
    } finally {
      detector?.dispose();
    }
  },
};

/** Saved detections by camera, in the order written; one model throughout. */
async function loadDetections(file: string): Promise<{ model: string; byCamera: Map<string, CameraPosesDetected[]> }> {
  const byCamera = new Map<string, CameraPosesDetected[]>();
  const models = new Set<string>();
  for await (const event of readJsonLines(file, CameraPosesDetected)) {
    models.add(event.model);
    const events = byCamera.get(event.cameraId) ?? [];
    events.push(event);
    byCamera.set(event.cameraId, events);
  }
  if (models.size !== 1)
    throw new WalkoutError('USAGE', `walkout eval pose: ${file} holds ${models.size ? `detections of ${models.size} models (${[...models].join(', ')})` : 'no detections'}; give one run's file`);
  for (const [cameraId, events] of byCamera)
    events.forEach((e, i) => {
      if (i > 0 && e.frameIndex <= events[i - 1].frameIndex)
        throw new WalkoutError('USAGE', `walkout eval pose: ${file}: ${cameraId} frame ${e.frameIndex} comes after frame ${events[i - 1].frameIndex}; frames must be in order`);
    });
  return { model: [...models][0], byCamera };
}

function formatFusion(fusion: FusionEvalReport, alone: number | null): string[] {
  const w = fusion.overall.wristsInView;
  return [
    `fused across cameras (${fusion.instants} instants, ${fusion.msPerInstant.toFixed(0)} ms each): every camera's view of the people triangulated from all of them`,
    ...fusion.cameras.map((c) => `  ${c.cameraId}: visible keypoints ${pct(c.summary.recallVisible)}, wrists in view ${c.summary.wristsInView.found}/${c.summary.wristsInView.total} = ${pct(c.summary.wristsInView.recall)}`),
    `wrists in view, fused: ${w.found}/${w.total} = ${pct(w.recall)} (the detector alone: ${pct(alone)}); visible keypoints ${pct(fusion.overall.recallVisible)}; ` +
      `allowing a whole-person left/right swap: wrists ${pct(fusion.overall.sideAgnostic.wristsInView.recall)}`,
    `wrists in view missed, fused: ${formatWristMisses(fusion.overall.wristMisses)}`,
    wrists3d(fusion.wrists3d),
    fusion.tracked
      ? `followed over time (${fusion.tracked.tracks} tracks, ${fusion.tracked.flips} readings turned round): wrists in view ` +
        `${fusion.tracked.overall.wristsInView.found}/${fusion.tracked.overall.wristsInView.total} = ${pct(fusion.tracked.overall.wristsInView.recall)}, ` +
        `other side ${fusion.tracked.overall.wristMisses['other-side']}; ${wrists3d(fusion.tracked.wrists3d)}`
      : 'not followed over time: the frames scored are more than a second apart (more --frames to follow people)',
    ...(fusion.tracked?.floor ? [floorTracking(fusion.tracked.floor)] : []),
  ];
}

/** The floor tracking line, as eval pose and start print it. */
export function floorTracking(floor: FloorTracking): string {
  const ratio = (r: number | null) => (r === null ? '-' : r.toFixed(3));
  return (
    `tracks on the floor, people matched within ${floor.maxDistanceM} m (as walkout eval mot --distance): MOTA ${ratio(floor.mota)}, IDF1 ${ratio(floor.idf1)}, ` +
    `MOTP ${floor.motp === null ? '-' : `${(floor.motp * 100).toFixed(1)} cm`}, ID switches ${floor.idSwitches}, fragmentations ${floor.fragmentations}, ` +
    `misses ${floor.misses}, false positives ${floor.falsePositives} of ${floor.objects} people-instants; ` +
    `mostly tracked / partly / mostly lost ${floor.mostlyTracked} / ${floor.partlyTracked} / ${floor.mostlyLost} of ${floor.uniqueObjects} people`
  );
}

function wrists3d(w: FusionEvalReport['wrists3d']): string {
  return (
    `3D wrists seen by two or more cameras, within ${(w.radiusM * 100).toFixed(0)} cm of the truth: ${w.found}/${w.total} = ${pct(w.recall)}` +
    (w.medianErrorM === null ? '' : `, median error of those triangulated ${(w.medianErrorM * 100).toFixed(1)} cm`)
  );
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
