import { WalkoutError, type CameraPosesDetected, type FramePoseTruth } from '../contracts/index.ts';
import type { Recording } from '../recording/index.ts';
import { readVideoFrames, type DecodedFrame } from '../video/mp4.reader.ts';
import { DEFAULT_RECALL_OPTIONS, emptyTally, summariseRecall, tallyFrame, type RecallOptions, type RecallSummary } from './keypoint.recall.ts';
import { FrameReads } from './frame.reads.ts';
import type { DetectedPose, PassTally, PoseDetector } from './pose.detector.ts';
import { cameraViewGeometry } from './view.geometry.ts';

/**
 * A pose model against a recording's 2D pose truth: decode each camera's video, run the model on an
 * evenly spaced sample of frames, and tally keypoint recall (keypoint.recall.ts) per camera and
 * overall. Video and truth are both streamed, side by side, by frame index.
 */
export interface PoseEvalOptions {
  /** The model to run on each frame; not needed when `saved` gives the detections. */
  detector?: PoseDetector;
  /**
   * Detections an earlier run made (its CameraPosesDetected events, by camera, in frame order):
   * scored against the truth without decoding video or running a model, so fusion and tracking can
   * be measured again in seconds. With `framesPerCamera` finite, the frames a run with that many
   * would have decoded are picked from them (they must be there: saved from every frame, say).
   */
  saved?: { model: string; byCamera: ReadonlyMap<string, readonly CameraPosesDetected[]> };
  /** Cameras to score; every camera with video and pose truth when absent. */
  cameraIds?: string[];
  /** Frames to score per camera, spread evenly over the video; Infinity scores every frame. */
  framesPerCamera: number;
  /** Read every n-th frame of a camera whole, the others only round its previous frame's people, as the camera service does (FrameReads); default 1. */
  wholeFrameEvery?: number;
  recall?: RecallOptions;
  /** Called for every scored frame that was decoded (progress bars, overlays). */
  onFrame?: (cameraId: string, frame: DecodedFrame, truth: FramePoseTruth, detections: DetectedPose[]) => void | Promise<void>;
  /** Called for every scored frame, decoded or saved. */
  onScored?: (cameraId: string, truth: FramePoseTruth, detections: DetectedPose[]) => void | Promise<void>;
}

/**
 * The same wrist at the same instant seen by several cameras: found by at least one of them (what a
 * multi-camera tracker can hope to locate) and, where two or more see it, by at least two (what it
 * can triangulate). Null with fewer than two cameras scored.
 */
export interface MultiViewWrists {
  /** Wrist instants in view of at least one scored camera, and how many of them some camera found. */
  inView: number;
  foundByOne: number;
  recallAny: number | null;
  /** Wrist instants in view of two or more cameras, and how many of them at least two cameras found. */
  inTwoViews: number;
  foundByTwo: number;
  recallTwo: number | null;
}

export interface PoseEvalReport {
  model: string;
  backend: string;
  overall: RecallSummary;
  cameras: Array<{ cameraId: string; summary: RecallSummary; msPerFrame: number }>;
  multiView: MultiViewWrists | null;
  /** Wrists in view per truth person over every camera scored: which people the model loses. */
  wristsByPerson: Array<{ personId: string; found: number; total: number; recall: number }>;
  /**
   * What the detector's reading cost a frame detected: its model passes by kind, and their input in
   * kilopixels (PassTally.pixels, which does not depend on the machine's load). Absent when the
   * detections were saved, or the detector does not count its passes.
   */
  modelInput?: { frames: number; passesAFrame: Record<string, number>; kilopixelsAFrame: number };
}

export async function evaluatePoses(recording: Recording, options: PoseEvalOptions): Promise<PoseEvalReport> {
  const { detector, saved } = options;
  if (!detector && !saved) throw new WalkoutError('CONFIG_INVALID', 'evaluatePoses needs a detector or saved detections');
  const recall = options.recall ?? DEFAULT_RECALL_OPTIONS;
  const streams = recording.manifest.streams.cameras.filter(
    (c) =>
      (!options.cameraIds || options.cameraIds.includes(c.cameraId)) &&
      recording.manifest.truth.poses?.[c.cameraId] &&
      (!saved || saved.byCamera.has(c.cameraId)),
  );
  const overall = emptyTally();
  let detected = 0;
  const cameras: PoseEvalReport['cameras'] = [];
  // Per wrist instant (store time, person, side): cameras that had it in view, and that found it.
  const instants = new Map<string, { views: number; found: number }>();
  const byPerson = new Map<string, { found: number; total: number }>();
  for (const stream of streams) {
    const camera = recording.index.cameras.get(stream.cameraId);
    const tally = emptyTally();
    const truthLines = recording.truthPoses(stream.cameraId)[Symbol.asyncIterator]();
    let truth = await truthLines.next();
    /** The truth line of a frame, or null when the truth has none for it (it ended early). */
    const truthAt = async (index: number): Promise<FramePoseTruth | null> => {
      while (!truth.done && truth.value.frameIndex < index) truth = await truthLines.next();
      return truth.done || truth.value.frameIndex !== index ? null : truth.value;
    };
    const score = async (line: FramePoseTruth, detections: DetectedPose[]) => {
      tallyFrame(tally, line.people, detections, recall);
      for (const wrist of tallyFrame(overall, line.people, detections, recall)) {
        const key = `${line.ts}/${wrist.personId}/${wrist.wrist}`;
        const seen = instants.get(key) ?? { views: 0, found: 0 };
        seen.views++;
        if (wrist.found) seen.found++;
        instants.set(key, seen);
        const person = byPerson.get(wrist.personId) ?? { found: 0, total: 0 };
        person.total++;
        if (wrist.found) person.found++;
        byPerson.set(wrist.personId, person);
      }
      await options.onScored?.(stream.cameraId, line, detections);
    };
    let detectMs = 0;
    // Frames picked, as readVideoFrames picks them: every n-th from the first, up to framesPerCamera.
    const every = Math.max(1, Math.floor(stream.frameCount / Math.max(1, options.framesPerCamera)));
    if (saved) {
      const events = saved.byCamera.get(stream.cameraId) ?? [];
      for (const event of Number.isFinite(options.framesPerCamera) ? pickSaved(events, stream, every, options.framesPerCamera) : events) {
        const line = await truthAt(event.frameIndex);
        if (line) await score(line, event.poses);
      }
    } else {
      // The calibration tells a detector which way people stand in this camera's image.
      const view = camera ? cameraViewGeometry(camera) : undefined;
      const frames = readVideoFrames(recording.videoPath(stream.cameraId), {
        every,
        maxFrames: options.framesPerCamera,
        ...(camera ? { info: { width: camera.width, height: camera.height } } : {}),
      });
      // As the camera service does: the people of this camera's previous frame (read here).
      const reads = new FrameReads(options.wholeFrameEvery ?? 1);
      for await (const frame of frames) {
        const line = await truthAt(frame.index);
        // A frame without its truth line cannot be scored.
        if (!line) continue;
        const started = performance.now();
        const hints = reads.hints(stream.cameraId, frame);
        const detections = await detector!.detect(frame, view, hints);
        detected++;
        reads.record(stream.cameraId, hints, detections);
        detectMs += performance.now() - started;
        await score(line, detections);
        await options.onFrame?.(stream.cameraId, frame, line, detections);
      }
    }
    await truthLines.return?.(undefined);
    cameras.push({ cameraId: stream.cameraId, summary: summariseRecall(tally, recall), msPerFrame: tally.frames && !saved ? detectMs / tally.frames : 0 });
  }
  return {
    model: saved ? saved.model : detector!.model,
    backend: saved ? 'saved detections' : detector!.backend,
    overall: summariseRecall(overall, recall),
    cameras,
    multiView: cameras.length >= 2 ? multiViewWrists([...instants.values()]) : null,
    wristsByPerson: [...byPerson].map(([personId, { found, total }]) => ({ personId, found, total, recall: found / total })),
    ...modelInputOf(saved ? undefined : detector?.passes?.(), detected),
  };
}

/** The model passes a frame detected, by kind, and their input a frame in kilopixels. */
function modelInputOf(passes: Readonly<Record<string, PassTally>> | undefined, frames: number): Pick<PoseEvalReport, 'modelInput'> {
  if (!passes || !frames) return {};
  const passesAFrame = Object.fromEntries(Object.entries(passes).map(([kind, tally]) => [kind, tally.count / frames]));
  const pixels = Object.values(passes).reduce((sum, tally) => sum + tally.pixels, 0);
  return { modelInput: { frames, passesAFrame, kilopixelsAFrame: pixels / frames / 1000 } };
}

/**
 * The saved detections of the frames a run over `framesPerCamera` frames of the stream would have
 * decoded (0, every, 2 x every, ...); an error naming the first frame the saved ones lack.
 */
function pickSaved(
  events: readonly CameraPosesDetected[],
  stream: { cameraId: string; frameCount: number },
  every: number,
  framesPerCamera: number,
): CameraPosesDetected[] {
  const byFrame = new Map(events.map((e) => [e.frameIndex, e]));
  const picked: CameraPosesDetected[] = [];
  for (let index = 0; index < stream.frameCount && picked.length < framesPerCamera; index += every) {
    const event = byFrame.get(index);
    if (!event)
      throw new WalkoutError(
        'USAGE',
        `the saved detections have no frame ${index} of ${stream.cameraId}, which ${framesPerCamera} frames a camera (one in ${every}) take; save them from every frame (--frames all)`,
      );
    picked.push(event);
  }
  return picked;
}

/** Multi-camera wrist figures from per-instant counts of cameras that saw and found each wrist. */
export function multiViewWrists(instants: ReadonlyArray<{ views: number; found: number }>): MultiViewWrists {
  const foundByOne = instants.filter((i) => i.found >= 1).length;
  const inTwo = instants.filter((i) => i.views >= 2);
  const foundByTwo = inTwo.filter((i) => i.found >= 2).length;
  return {
    inView: instants.length,
    foundByOne,
    recallAny: instants.length > 0 ? foundByOne / instants.length : null,
    inTwoViews: inTwo.length,
    foundByTwo,
    recallTwo: inTwo.length > 0 ? foundByTwo / inTwo.length : null,
  };
}
