import { boxIou } from '../vision/pose.detector.ts';
import { minCostAssignment } from './assignment.ts';

/**
 * Multi-object tracking scored the way trackers are compared everywhere: the CLEAR-MOT metrics
 * (MOTA, MOTP; Bernardin and Stiefelhagen 2008) and the identity metrics (IDF1, IDP, IDR; Ristani
 * et al. 2016), counted as py-motmetrics counts them, so figures here can be set beside published
 * ones. What a "distance" is (1 - IoU of two boxes, metres on the floor) is the caller's choice; a
 * pair whose distance is not finite may not match.
 *
 * Frame by frame (MotAccumulator.update):
 * 1. an object matched in the previous frame keeps its hypothesis when that hypothesis is there
 *    again and may still match it;
 * 2. the objects and hypotheses left are paired by the Hungarian method (as many pairs as can be,
 *    then the least total distance);
 * 3. a pair made in step 2 is an identity switch when the object's last match, however long ago,
 *    was another hypothesis;
 * 4. objects left are misses, hypotheses left false positives.
 * Over the whole sequence: an object is mostly tracked when matched in at least 80 % of the frames
 * it is in, mostly lost below 20 %, partly tracked between; a fragmentation is a match interrupted
 * by a miss and later resumed. IDF1 pairs object and hypothesis identities once for the whole
 * sequence, one to one, so that they share the most frames in which they may match (a pair "shares"
 * a frame when both are there within the threshold, matched in step 2 or not).
 */

export type TrackId = string | number;

/** One frame (or instant) to score: who is there, who the tracker says is there, how far apart each pair is. */
export interface MotFrame {
  objects: readonly TrackId[];
  hypotheses: readonly TrackId[];
  /** objects x hypotheses; a distance that is not finite means the pair may not match. */
  distances: ReadonlyArray<ReadonlyArray<number>>;
}

/** Counts of one sequence, or of several summed (identities of different sequences never meet). */
export interface MotCounts {
  frames: number;
  /** Object-frames in the truth (every object counted in every frame it is in). */
  objects: number;
  /** Hypothesis-frames the tracker reported. */
  hypotheses: number;
  /** Object-frames matched to a hypothesis, switches included. */
  matches: number;
  /** Sum of the distances of those matches (MOTP is its mean). */
  distanceSum: number;
  misses: number;
  falsePositives: number;
  idSwitches: number;
  fragmentations: number;
  uniqueObjects: number;
  mostlyTracked: number;
  partlyTracked: number;
  mostlyLost: number;
  /** Object-frames on the identity each object is paired with for the whole sequence (IDTP). */
  idTruePositives: number;
  idFalsePositives: number;
  idFalseNegatives: number;
}

/** The counts and the ratios made of them; a ratio with nothing to divide by is null. */
export interface MotMetrics extends MotCounts {
  /** 1 - (misses + false positives + switches) / objects; can be negative. */
  mota: number | null;
  /** Mean distance of the matches (for IoU: mean 1 - IoU, lower is better). */
  motp: number | null;
  idf1: number | null;
  idp: number | null;
  idr: number | null;
  recall: number | null;
  precision: number | null;
}

/** Matched in at least this share of its frames: mostly tracked. */
export const MOSTLY_TRACKED_SHARE = 0.8;
/** Matched in less than this share of its frames: mostly lost. */
export const MOSTLY_LOST_SHARE = 0.2;

interface ObjectHistory {
  frames: number;
  matched: number;
  /** Missed since its last match (a fragmentation if it is matched again). */
  missedSinceMatch: boolean;
  fragmentations: number;
}

export class MotAccumulator {
  private frames = 0;
  private objectFrames = 0;
  private hypothesisFrames = 0;
  private matches = 0;
  private distanceSum = 0;
  private misses = 0;
  private falsePositives = 0;
  private idSwitches = 0;
  /** Each object's last matched hypothesis, however long ago (what a switch is measured against). */
  private readonly lastHypothesis = new Map<TrackId, TrackId>();
  /** Objects matched in the previous frame, with their hypothesis then. */
  private previousMatches = new Map<TrackId, TrackId>();
  private readonly histories = new Map<TrackId, ObjectHistory>();
  /** Frames each object and hypothesis may match in, for the identity pairing. */
  private readonly shared = new Map<TrackId, Map<TrackId, number>>();
  private readonly hypothesisIds = new Set<TrackId>();

  update(frame: MotFrame): void {
    const { objects, hypotheses, distances } = frame;
    checkFrame(frame);
    this.frames++;
    this.objectFrames += objects.length;
    this.hypothesisFrames += hypotheses.length;
    this.countSharedFrames(frame);

    const pairs = new Map<number, number>(); // object index -> hypothesis index
    const taken = new Set<number>();
    objects.forEach((object, o) => {
      const kept = this.previousMatches.get(object);
      if (kept === undefined) return;
      const h = hypotheses.indexOf(kept);
      if (h < 0 || taken.has(h) || !Number.isFinite(distances[o][h])) return;
      pairs.set(o, h);
      taken.add(h);
    });
    const freeObjects = objects.map((_, o) => o).filter((o) => !pairs.has(o));
    const freeHypotheses = hypotheses.map((_, h) => h).filter((h) => !taken.has(h));
    const solved = minCostAssignment(freeObjects.map((o) => freeHypotheses.map((h) => distances[o][h])));
    for (const [row, column] of solved) {
      const o = freeObjects[row];
      const h = freeHypotheses[column];
      const last = this.lastHypothesis.get(objects[o]);
      if (last !== undefined && last !== hypotheses[h]) this.idSwitches++;
      pairs.set(o, h);
      taken.add(h);
    }

    const matchedNow = new Map<TrackId, TrackId>();
    objects.forEach((object, o) => {
      const history = this.histories.get(object) ?? { frames: 0, matched: 0, missedSinceMatch: false, fragmentations: 0 };
      this.histories.set(object, history);
      history.frames++;
      const h = pairs.get(o);
      if (h === undefined) {
        this.misses++;
        if (history.matched > 0) history.missedSinceMatch = true;
        return;
      }
      this.matches++;
      this.distanceSum += distances[o][h];
      if (history.missedSinceMatch) history.fragmentations++;
      history.missedSinceMatch = false;
      history.matched++;
      this.lastHypothesis.set(object, hypotheses[h]);
      matchedNow.set(object, hypotheses[h]);
    });
    this.falsePositives += hypotheses.length - taken.size;
    this.previousMatches = matchedNow;
  }

  counts(): MotCounts {
    const histories = [...this.histories.values()];
    const share = (h: ObjectHistory) => h.matched / h.frames;
    const idTruePositives = this.identityOverlap();
    return {
      frames: this.frames,
      objects: this.objectFrames,
      hypotheses: this.hypothesisFrames,
      matches: this.matches,
      distanceSum: this.distanceSum,
      misses: this.misses,
      falsePositives: this.falsePositives,
      idSwitches: this.idSwitches,
      fragmentations: histories.reduce((n, h) => n + h.fragmentations, 0),
      uniqueObjects: histories.length,
      mostlyTracked: histories.filter((h) => share(h) >= MOSTLY_TRACKED_SHARE).length,
      partlyTracked: histories.filter((h) => share(h) >= MOSTLY_LOST_SHARE && share(h) < MOSTLY_TRACKED_SHARE).length,
      mostlyLost: histories.filter((h) => share(h) < MOSTLY_LOST_SHARE).length,
      idTruePositives,
      idFalsePositives: this.hypothesisFrames - idTruePositives,
      idFalseNegatives: this.objectFrames - idTruePositives,
    };
  }

  private countSharedFrames({ objects, hypotheses, distances }: MotFrame) {
    for (const h of hypotheses) this.hypothesisIds.add(h);
    objects.forEach((object, o) => {
      const row = this.shared.get(object) ?? new Map<TrackId, number>();
      this.shared.set(object, row);
      hypotheses.forEach((hypothesis, h) => {
        if (Number.isFinite(distances[o][h])) row.set(hypothesis, (row.get(hypothesis) ?? 0) + 1);
      });
    });
  }

  /** IDTP: the most object-frames a one-to-one pairing of identities can share. */
  private identityOverlap(): number {
    const objectIds = [...this.shared.keys()];
    const hypothesisIds = [...this.hypothesisIds];
    const shared = objectIds.map((o) => hypothesisIds.map((h) => this.shared.get(o)!.get(h) ?? 0));
    const pairs = minCostAssignment(shared.map((row) => row.map((frames) => -frames)));
    return pairs.reduce((n, [o, h]) => n + shared[o][h], 0);
  }
}

function checkFrame({ objects, hypotheses, distances }: MotFrame) {
  if (distances.length !== objects.length || distances.some((row) => row.length !== hypotheses.length))
    throw new RangeError(`MotAccumulator: distances must be ${objects.length} x ${hypotheses.length} (objects x hypotheses)`);
  for (const [what, ids] of [['object', objects], ['hypothesis', hypotheses]] as const)
    if (new Set(ids).size !== ids.length) throw new RangeError(`MotAccumulator: a ${what} id appears twice in one frame`);
}

/** Counts of several sequences as one (the "overall" row). */
export function sumMotCounts(all: readonly MotCounts[]): MotCounts {
  const sum = (key: keyof MotCounts) => all.reduce((n, counts) => n + counts[key], 0);
  const keys = Object.keys(emptyCounts()) as Array<keyof MotCounts>;
  return Object.fromEntries(keys.map((key) => [key, sum(key)])) as unknown as MotCounts;
}

function emptyCounts(): MotCounts {
  return new MotAccumulator().counts();
}

export function motMetrics(counts: MotCounts): MotMetrics {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const { objects, hypotheses, matches, misses, falsePositives, idSwitches, idTruePositives } = counts;
  return {
    mota: objects > 0 ? 1 - (misses + falsePositives + idSwitches) / objects : null,
    motp: ratio(counts.distanceSum, matches),
    idf1: ratio(2 * idTruePositives, objects + hypotheses),
    idp: ratio(idTruePositives, hypotheses),
    idr: ratio(idTruePositives, objects),
    recall: ratio(matches, objects),
    precision: ratio(matches, matches + falsePositives),
    ...counts,
  };
}

/** Scores one sequence of frames. */
export function scoreMot(frames: Iterable<MotFrame>): MotMetrics {
  const accumulator = new MotAccumulator();
  for (const frame of frames) accumulator.update(frame);
  return motMetrics(accumulator.counts());
}

/** A box in pixels: left, top, width, height (as MOTChallenge files give it). */
export type PixelBox = readonly [x: number, y: number, width: number, height: number];

/** 1 - IoU of every pair, Infinity where it is above `maxDistance` (0.5: a match needs IoU >= 0.5). */
export function boxDistances(objects: readonly PixelBox[], hypotheses: readonly PixelBox[], maxDistance: number): number[][] {
  return objects.map((a) =>
    hypotheses.map((b) => {
      const d = 1 - boxIou(a, b);
      return d <= maxDistance ? d : Infinity;
    }),
  );
}

/** Straight-line distance of every pair of floor points (metres), Infinity beyond `maxM`. */
export function floorDistances(objects: ReadonlyArray<readonly [number, number]>, hypotheses: ReadonlyArray<readonly [number, number]>, maxM: number): number[][] {
  return objects.map((a) =>
    hypotheses.map((b) => {
      const d = Math.hypot(a[0] - b[0], a[1] - b[1]);
      return d <= maxM ? d : Infinity;
    }),
  );
}
