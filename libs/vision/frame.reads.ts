import type { RgbFrame } from '../video/rgb.frame.ts';
import { changedWithin, changeMap, changesOutside, thumbnailOf, type Thumbnail } from './frame.changes.ts';
import { keypointBox, type DetectedPose, type DetectHints } from './pose.detector.ts';

/**
 * A window read round a person seen in the previous frame (hints.around): its side over their
 * longer keypoint-box side, room for a step between frames and for arms held out.
 */
const WINDOW_MARGIN = 2;
/**
 * A person is still when nothing changed within their keypoint box grown by this share of its longer
 * side on every side (room for a hand held out past the keypoints the model found).
 */
const STILL_MARGIN = 0.25;
/** The smallest keypoint box side a window is made for, pixels (a person seen as a point still gets a window). */
const WINDOW_MIN_PERSON_PX = 32;

/** The square round a person where a window reads them: its centre and side, frame pixels, unturned. */
export function windowRound(person: DetectedPose): { cx: number; cy: number; side: number } {
  const [x, y, w, h] = keypointBox(person.keypoints);
  return { cx: x + w / 2, cy: y + h / 2, side: Math.max(w, h, WINDOW_MIN_PERSON_PX) * WINDOW_MARGIN };
}

/**
 * How each camera's next frame is read: whole, or only in windows round the people its previous
 * frame showed (DetectHints.around). A window round each person costs a fraction of the whole
 * frame and of its second looks, but finds nobody new, so every `wholeEvery`-th frame of a camera
 * is read whole (and its first). With `wholeEvery` 1 every frame is read whole.
 *
 * Given the frame itself, the hints of a frame read round people also say where the image changed
 * outside those windows since the camera's previous frame (DetectHints.changes, frame.changes.ts):
 * where someone new may be. A detector need not look for newcomers where nothing changed.
 *
 * Frames are counted as they are detected, per camera: the caller asks for a frame's hints, detects
 * it, and records what it found before the camera's next frame.
 */
export class FrameReads {
  private readonly cameras = new Map<string, { sinceWhole: number; people: readonly DetectedPose[]; thumbnail?: Thumbnail }>();
  /** Each camera's frame being read, sampled, kept for its record. */
  private readonly reading = new Map<string, Thumbnail>();

  constructor(
    readonly wholeEvery: number,
    private readonly wholeEveryOf: ReadonlyMap<string, number> = new Map(),
  ) {
    if (!Number.isInteger(wholeEvery) || wholeEvery < 1) throw new RangeError(`wholeEvery is a whole number of frames >= 1, not ${wholeEvery}`);
    for (const [cameraId, every] of wholeEveryOf)
      if (!Number.isInteger(every) || every < 1) throw new RangeError(`wholeEvery of ${cameraId} is a whole number of frames >= 1, not ${every}`);
  }

  /** The hints for the camera's next frame: the people before it, and where to look when it is not read whole. */
  hints(cameraId: string, frame?: RgbFrame): DetectHints {
    const last = this.cameras.get(cameraId);
    const wholeEvery = this.wholeEveryOf.get(cameraId) ?? this.wholeEvery;
    // Sampled only where a frame read round people will compare with it.
    const thumbnail = frame && wholeEvery > 1 ? thumbnailOf(frame) : undefined;
    if (thumbnail) this.reading.set(cameraId, thumbnail);
    else this.reading.delete(cameraId);
    if (!last) return {};
    const whole = last.sinceWhole + 1 >= wholeEvery;
    if (whole) return { peopleBefore: last.people.length };
    const hints: DetectHints = { peopleBefore: last.people.length, around: last.people };
    if (!thumbnail || !last.thumbnail) return hints;
    const changed = changeMap(last.thumbnail, thumbnail);
    if (!changed) return hints;
    const windows = last.people.map((person) => {
      const { cx, cy, side } = windowRound(person);
      return [cx - side / 2, cy - side / 2, side, side] as const;
    });
    const changes = changesOutside(changed, windows);
    const moved = last.people.map((person) => changedWithin(changed, grown(keypointBox(person.keypoints), STILL_MARGIN)));
    return { ...hints, around: last.people.filter((_, k) => moved[k]), unchanged: last.people.filter((_, k) => !moved[k]), changes };
  }

  /** Forgets what the camera's last frame showed (frames of it were passed over): its next frame is read whole, as its first. */
  forget(cameraId: string): void {
    this.cameras.delete(cameraId);
    this.reading.delete(cameraId);
  }

  /** What the camera's frame read with `hints` found. */
  record(cameraId: string, hints: DetectHints, people: readonly DetectedPose[]): void {
    const sinceWhole = hints.around ? (this.cameras.get(cameraId)?.sinceWhole ?? 0) + 1 : 0;
    this.cameras.set(cameraId, { sinceWhole, people, thumbnail: this.reading.get(cameraId) });
    this.reading.delete(cameraId);
  }
}

/** A box grown by `share` of its longer side on every side. */
function grown([x, y, w, h]: readonly [number, number, number, number], share: number): [number, number, number, number] {
  const by = Math.max(w, h) * share;
  return [x - by, y - by, w + 2 * by, h + 2 * by];
}
