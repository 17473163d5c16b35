import { boxIou } from './pose.detector.ts';

/**
 * Who is where, scored: people a detector found against people labelled by hand (boxes), frame by
 * frame. A found person is a detection paired one to one with a labelled person, greedily by
 * score, when their boxes overlap by IoU `minIou` or more; a phantom is a detection paired with
 * nobody. Apart from the detectors so that what is measured is what runs.
 */

export interface LabelledPerson {
  box: readonly number[];
  /** Only part of the person is in the frame. */
  partial: boolean;
}

export interface FrameCount {
  present: number;
  found: number;
  /** Of the people wholly in view. */
  presentWhole: number;
  foundWhole: number;
  phantoms: number;
}

/** A box overlap this large is one person seen twice; loose boxes (MultiPose's) still pair. */
export const PEOPLE_MIN_IOU = 0.3;

export function countPeople(labels: readonly LabelledPerson[], detections: ReadonlyArray<{ box: readonly number[]; score: number }>, minIou = PEOPLE_MIN_IOU): FrameCount {
  const taken = new Set<number>();
  let phantoms = 0;
  for (const detection of [...detections].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = minIou;
    labels.forEach((label, k) => {
      const iou = boxIou(label.box, detection.box);
      if (!taken.has(k) && iou >= bestIou) [best, bestIou] = [k, iou];
    });
    if (best < 0) phantoms++;
    else taken.add(best);
  }
  const whole = labels.map((label, k) => ({ label, k })).filter(({ label }) => !label.partial);
  return {
    present: labels.length,
    found: taken.size,
    presentWhole: whole.length,
    foundWhole: whole.filter(({ k }) => taken.has(k)).length,
    phantoms,
  };
}

export function sumCounts(counts: readonly FrameCount[]): FrameCount & { frames: number; framesWithPhantoms: number } {
  const total = { present: 0, found: 0, presentWhole: 0, foundWhole: 0, phantoms: 0, frames: counts.length, framesWithPhantoms: 0 };
  for (const c of counts) {
    total.present += c.present;
    total.found += c.found;
    total.presentWhole += c.presentWhole;
    total.foundWhole += c.foundWhole;
    total.phantoms += c.phantoms;
    if (c.phantoms > 0) total.framesWithPhantoms++;
  }
  return total;
}
