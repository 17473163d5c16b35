import { COCO_KEYPOINTS, KP, type FramePoseTruth } from '../contracts/index.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { mirrorPose, type DetectedPose } from './pose.detector.ts';

/**
 * How many ground-truth keypoints a pose model finds, PCK-style: a truth keypoint is found when the
 * detection matched to its person puts that keypoint, with at least `minKeypointScore` confidence,
 * within `pckFraction` of the person's torso size (the longer shoulder-to-opposite-hip diagonal in
 * the image, the PCK@0.2 of the LSP/MPII benchmarks), and never closer than `minRadiusPx`.
 *
 * Why this threshold: the store needs wrists to within about a lane (25-35 cm) to tell which lane a
 * hand went into, and a hand is located by pixels near the wrist. A torso diagonal is about
 * 0.55 m, so 0.2 of it is about 11 cm in the world at the person's distance, whatever that
 * distance is: a third of a lane. It scales with the person, so near and far people are judged
 * alike, and it uses the torso (rigid, rarely foreshortened much by an oblique ceiling view) rather
 * than the head, which is a few pixels across here. The floor of 4 px keeps a person 8 m away
 * (torso ~20 px) from being judged to sub-pixel precision the H.264 video cannot carry.
 */
export interface RecallOptions {
  pckFraction: number;
  minRadiusPx: number;
  minKeypointScore: number;
  /** Detections and truth people are paired only above this OKS (one-to-one, best first). */
  minMatchOks: number;
  /**
   * For the second, "countable people" figures: a truth person counts when at least this many of
   * their keypoints are in the image (v >= 1) and their visible box covers at least `minBoxAreaPx`.
   * The strict figures count everyone.
   */
  minKeypointsInImage: number;
  minBoxAreaPx: number;
  /**
   * For the "apart" and "overlapping" wrist figures: a person overlaps another when the two visible
   * boxes share more than this fraction of the smaller box.
   */
  overlapShare: number;
}

export const DEFAULT_RECALL_OPTIONS: RecallOptions = Object.freeze({
  pckFraction: 0.2,
  minRadiusPx: 4,
  minKeypointScore: 0.2,
  minMatchOks: 0.1,
  // OpenPose and the models that followed it train on COCO people with at least 5 labelled
  // keypoints and an area of at least 32 x 32 px and mask out the rest (COCO leaves people smaller
  // than that without keypoints at all): a person mostly outside the frame, or a sliver of one
  // behind a shelf, is not something these models are taught to find.
  minKeypointsInImage: 5,
  minBoxAreaPx: 32 * 32,
  overlapShare: 0.05,
});

type TruthPerson = FramePoseTruth['people'][number];

/** Keypoint-count tallies, per COCO keypoint. */
export interface RecallTally {
  /** Truth keypoints marked visible (v = 2) and how many were found. */
  visible: { found: number; total: number }[];
  /** Truth keypoints inside the image, visible or hidden (v >= 1). */
  inImage: { found: number; total: number }[];
  /** Visible keypoints found when a detection may be mirrored as a whole (left and right swapped). */
  visibleAnySide: { found: number; total: number }[];
  /** Visible keypoints of the countable people only (see RecallOptions.minKeypointsInImage). */
  visibleCountable: { found: number; total: number }[];
  /** Wrists in view of people whose box overlaps nobody else's, and of those whose box does. */
  wristsApart: { found: number; total: number };
  wristsOverlapping: { found: number; total: number };
  /** Wrists in view not found, by why (see WristMiss). */
  wristMisses: Record<WristMiss, number>;
  people: { truth: number; matched: number; detections: number; countable: number };
  frames: number;
}

export interface RecallSummary {
  frames: number;
  people: { truth: number; matched: number; detections: number; countable: number };
  perKeypoint: Array<{ keypoint: string; visibleFound: number; visibleTotal: number; recallVisible: number | null; recallInImage: number | null }>;
  /** All visible (v = 2) keypoints pooled. */
  recallVisible: number | null;
  /** Wrists that are in view: left and right wrists with v = 2, pooled. */
  wristsInView: { found: number; total: number; recall: number | null };
  /** The same two figures when a detection may have left and right swapped as a whole. */
  sideAgnostic: { recallVisible: number | null; wristsInView: { found: number; total: number; recall: number | null } };
  /** The strict figures over countable people only (enough of them in the image to be found). */
  countable: { recallVisible: number | null; wristsInView: { found: number; total: number; recall: number | null } };
  /**
   * Wrists in view split by whether the person's visible box overlaps another person's: where a
   * single-view model loses people (one detection for two) and the store needs other cameras.
   */
  byOverlap: { apart: { found: number; total: number; recall: number | null }; overlapping: { found: number; total: number; recall: number | null } };
  /** Wrists in view not found, counted by why (WristMiss). */
  wristMisses: Record<WristMiss, number>;
  options: RecallOptions;
}

export function emptyTally(): RecallTally {
  const zero = () => COCO_KEYPOINTS.map(() => ({ found: 0, total: 0 }));
  return {
    visible: zero(),
    inImage: zero(),
    visibleAnySide: zero(),
    visibleCountable: zero(),
    wristsApart: { found: 0, total: 0 },
    wristsOverlapping: { found: 0, total: 0 },
    wristMisses: Object.fromEntries(WRIST_MISSES.map((m) => [m, 0])) as Record<WristMiss, number>,
    people: { truth: 0, matched: 0, detections: 0, countable: 0 },
    frames: 0,
  };
}

function torsoSizePx(person: TruthPerson): number {
  const k = person.keypoints;
  const diagonal = (a: number, b: number) =>
    k[a][2] > 0 || k[b][2] > 0 || (k[a][0] !== 0 && k[b][0] !== 0) ? Math.hypot(k[a][0] - k[b][0], k[a][1] - k[b][1]) : 0;
  const torso = Math.max(diagonal(KP.left_shoulder, KP.right_hip), diagonal(KP.right_shoulder, KP.left_hip));
  // A person cut by the image edge may lack a torso in the image: fall back to a share of the box.
  return torso > 0 ? torso : 0.3 * person.box[3];
}

/** Enough of the person is in the image for a model trained on COCO to be asked to find them. */
export function isCountable(person: TruthPerson, options: RecallOptions = DEFAULT_RECALL_OPTIONS): boolean {
  const inImage = person.keypoints.filter(([, , v]) => v >= 1).length;
  return inImage >= options.minKeypointsInImage && person.box[2] * person.box[3] >= options.minBoxAreaPx;
}

/** Whether a person's visible box shares more than `share` of the smaller box with another person's. */
export function overlapsAnother(truth: readonly TruthPerson[], index: number, share: number): boolean {
  const [ax, ay, aw, ah] = truth[index].box;
  return truth.some((other, j) => {
    if (j === index) return false;
    const [bx, by, bw, bh] = other.box;
    const w = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
    const h = Math.min(ay + ah, by + bh) - Math.max(ay, by);
    return w > 0 && h > 0 && w * h > share * Math.min(aw * ah, bw * bh);
  });
}

/**
 * Pairs truth people with detections, highest OKS first, one-to-one (a detection's OKS is the better
 * of as-is and mirrored: a detection with its sides swapped is still of that person). Returns the
 * detection index per truth person (-1 unmatched).
 */
export function matchDetections(truth: readonly TruthPerson[], detections: readonly DetectedPose[], minOks: number): number[] {
  const pairs: Array<{ t: number; d: number; oks: number }> = [];
  truth.forEach((person, t) => {
    // The visible box is the person's extent; COCO's segment area is about half its box area for a person.
    const area = Math.max(1, person.box[2] * person.box[3] * 0.53);
    const labelled = person.keypoints.map(([x, y, v]) => [x, y, v > 0 ? 1 : 0] as const);
    detections.forEach((det, d) => {
      const oks = Math.max(
        objectKeypointSimilarity(det.keypoints, labelled, area),
        objectKeypointSimilarity(mirrorPose(det).keypoints, labelled, area),
      );
      if (oks > minOks) pairs.push({ t, d, oks });
    });
  });
  pairs.sort((a, b) => b.oks - a.oks);
  const byTruth = truth.map(() => -1);
  const taken = new Set<number>();
  for (const { t, d } of pairs) {
    if (byTruth[t] !== -1 || taken.has(d)) continue;
    byTruth[t] = d;
    taken.add(d);
  }
  return byTruth;
}

/**
 * Why a wrist in view was not found: the model found no one for its person; it put the person's
 * other wrist there (sides swapped, commonly a person seen from behind); it put this wrist there but
 * unsure (score under the limit); it put it off by less than twice the radius; or farther.
 */
export const WRIST_MISSES = ['person-not-found', 'other-side', 'low-score', 'near', 'far'] as const;
export type WristMiss = (typeof WRIST_MISSES)[number];

/** A wrist in view (v = 2) in one frame, and whether the model found it (or why not). */
export interface WristFind {
  personId: string;
  wrist: 'left' | 'right';
  found: boolean;
  miss?: WristMiss;
}

/** Adds one frame: its truth people and what the model detected. Returns its wrists in view. */
export function tallyFrame(
  tally: RecallTally,
  truth: readonly TruthPerson[],
  detections: readonly DetectedPose[],
  options: RecallOptions = DEFAULT_RECALL_OPTIONS,
): WristFind[] {
  const wrists: WristFind[] = [];
  tally.frames++;
  tally.people.truth += truth.length;
  tally.people.detections += detections.length;
  const match = matchDetections(truth, detections, options.minMatchOks);
  truth.forEach((person, t) => {
    const det = match[t] >= 0 ? detections[match[t]] : undefined;
    if (det) tally.people.matched++;
    const radius = Math.max(options.minRadiusPx, options.pckFraction * torsoSizePx(person));
    const offBy = (pose: DetectedPose, at: number, k: number) =>
      Math.hypot(pose.keypoints[at][0] - person.keypoints[k][0], pose.keypoints[at][1] - person.keypoints[k][1]) / radius;
    const foundBy = (pose: DetectedPose | undefined, k: number) => !!pose && pose.keypoints[k][2] >= options.minKeypointScore && offBy(pose, k, k) <= 1;
    const missOf = (k: number): WristMiss => {
      if (!det) return 'person-not-found';
      const off = offBy(det, k, k);
      if (off <= 1) return 'low-score';
      const other = k === KP.left_wrist ? KP.right_wrist : KP.left_wrist;
      if (det.keypoints[other][2] >= options.minKeypointScore && offBy(det, other, k) <= 1) return 'other-side';
      return off <= 2 ? 'near' : 'far';
    };
    const mirrored = det && mirrorPose(det);
    const visibleFound = (pose: DetectedPose | undefined) => person.keypoints.filter(([, , v], k) => v === 2 && foundBy(pose, k)).length;
    const anySide = mirrored && visibleFound(mirrored) > visibleFound(det) ? mirrored : det;
    const countable = isCountable(person, options);
    if (countable) tally.people.countable++;
    const wristTally = overlapsAnother(truth, t, options.overlapShare) ? tally.wristsOverlapping : tally.wristsApart;
    for (const k of [KP.left_wrist, KP.right_wrist])
      if (person.keypoints[k][2] === 2) {
        const found = foundBy(det, k);
        wristTally.total++;
        if (found) wristTally.found++;
        const wrist = k === KP.left_wrist ? 'left' : 'right';
        if (found) wrists.push({ personId: person.personId, wrist, found });
        else {
          const miss = missOf(k);
          tally.wristMisses[miss]++;
          wrists.push({ personId: person.personId, wrist, found, miss });
        }
      }
    person.keypoints.forEach(([, , v], k) => {
      if (v === 0) return;
      const found = foundBy(det, k);
      tally.inImage[k].total++;
      if (found) tally.inImage[k].found++;
      if (v === 2) {
        tally.visible[k].total++;
        tally.visibleAnySide[k].total++;
        if (found) tally.visible[k].found++;
        if (foundBy(anySide, k)) tally.visibleAnySide[k].found++;
        if (countable) {
          tally.visibleCountable[k].total++;
          if (found) tally.visibleCountable[k].found++;
        }
      }
    });
  });
  return wrists;
}

export function summariseRecall(tally: RecallTally, options: RecallOptions = DEFAULT_RECALL_OPTIONS): RecallSummary {
  const ratio = (found: number, total: number) => (total > 0 ? found / total : null);
  const sum = (xs: { found: number; total: number }[]) => xs.reduce((s, x) => ({ found: s.found + x.found, total: s.total + x.total }), { found: 0, total: 0 });
  const all = sum(tally.visible);
  const wrists = sum([tally.visible[KP.left_wrist], tally.visible[KP.right_wrist]]);
  const allAnySide = sum(tally.visibleAnySide);
  const wristsAnySide = sum([tally.visibleAnySide[KP.left_wrist], tally.visibleAnySide[KP.right_wrist]]);
  const allCountable = sum(tally.visibleCountable);
  const wristsCountable = sum([tally.visibleCountable[KP.left_wrist], tally.visibleCountable[KP.right_wrist]]);
  return {
    frames: tally.frames,
    people: { ...tally.people },
    perKeypoint: COCO_KEYPOINTS.map((keypoint, k) => ({
      keypoint,
      visibleFound: tally.visible[k].found,
      visibleTotal: tally.visible[k].total,
      recallVisible: ratio(tally.visible[k].found, tally.visible[k].total),
      recallInImage: ratio(tally.inImage[k].found, tally.inImage[k].total),
    })),
    recallVisible: ratio(all.found, all.total),
    wristsInView: { ...wrists, recall: ratio(wrists.found, wrists.total) },
    sideAgnostic: {
      recallVisible: ratio(allAnySide.found, allAnySide.total),
      wristsInView: { ...wristsAnySide, recall: ratio(wristsAnySide.found, wristsAnySide.total) },
    },
    countable: {
      recallVisible: ratio(allCountable.found, allCountable.total),
      wristsInView: { ...wristsCountable, recall: ratio(wristsCountable.found, wristsCountable.total) },
    },
    byOverlap: {
      apart: { ...tally.wristsApart, recall: ratio(tally.wristsApart.found, tally.wristsApart.total) },
      overlapping: { ...tally.wristsOverlapping, recall: ratio(tally.wristsOverlapping.found, tally.wristsOverlapping.total) },
    },
    wristMisses: { ...tally.wristMisses },
    options,
  };
}

/** "person-not-found 3, other-side 1, ...": the miss counts in WRIST_MISSES order. */
export function formatWristMisses(misses: Record<WristMiss, number>): string {
  return WRIST_MISSES.map((m) => `${m} ${misses[m]}`).join(', ');
}

export function formatRecall(summary: RecallSummary): string {
  const pct = (r: number | null) => (r === null ? '   -  ' : `${(r * 100).toFixed(1).padStart(5)}%`);
  const lines = [
    `frames ${summary.frames}, people ${summary.people.truth} in truth, ${summary.people.matched} matched, ${summary.people.detections} detections`,
    `keypoint         visible found/total  recall(v=2)  recall(v>=1)`,
    ...summary.perKeypoint.map(
      (k) => `${k.keypoint.padEnd(16)} ${`${k.visibleFound}/${k.visibleTotal}`.padStart(19)}  ${pct(k.recallVisible).padStart(11)}  ${pct(k.recallInImage).padStart(12)}`,
    ),
    `all visible keypoints: ${pct(summary.recallVisible)}`,
    `wrists in view (v=2): ${summary.wristsInView.found}/${summary.wristsInView.total} = ${pct(summary.wristsInView.recall)}`,
    `allowing a whole-person left/right swap: visible keypoints ${pct(summary.sideAgnostic.recallVisible)}, ` +
      `wrists in view ${summary.sideAgnostic.wristsInView.found}/${summary.sideAgnostic.wristsInView.total} = ${pct(summary.sideAgnostic.wristsInView.recall)}`,
    `people with >= ${summary.options.minKeypointsInImage} keypoints in the image and a box >= ${summary.options.minBoxAreaPx} px² (${summary.people.countable} of ${summary.people.truth}): ` +
      `visible keypoints ${pct(summary.countable.recallVisible)}, wrists in view ${summary.countable.wristsInView.found}/${summary.countable.wristsInView.total} = ${pct(summary.countable.wristsInView.recall)}`,
    `wrists in view of people apart from others ${summary.byOverlap.apart.found}/${summary.byOverlap.apart.total} = ${pct(summary.byOverlap.apart.recall)}, ` +
      `of people overlapping another in the image ${summary.byOverlap.overlapping.found}/${summary.byOverlap.overlapping.total} = ${pct(summary.byOverlap.overlapping.recall)}`,
    `wrists in view missed: ${formatWristMisses(summary.wristMisses)} (near: off by 1-2 radii)`,
    `found = within max(${summary.options.minRadiusPx} px, ${summary.options.pckFraction} x torso diagonal) with score >= ${summary.options.minKeypointScore}`,
  ];
  return lines.join('\n');
}
