import { SCHEMA_VERSION, type Camera, type PeopleTracked, type TrackedPerson, type Vec3 } from '../contracts/index.ts';
import { inImage, projectPoint } from '../geometry/camera.ts';
import type { Recording } from '../recording/index.ts';
import { createRandom, hashString, type Random } from '../sim/random.ts';

/**
 * The recording's true skeletons as the tracker would publish them (`tracking.people-tracked`), so
 * that attribution can be measured apart from vision (`eval receipts --people truth`). Track ids are
 * `truth-<personId>`: a name only, which no stage may read anything into (visits come from the gate).
 *
 * With `noiseM` > 0 the tracker's typical error is added (docs/stages.md, "people from the truth"):
 * - every coordinate of every keypoint is off by a Gaussian error of standard deviation `noiseM`,
 *   half of its variance slowly drifting (a first-order autoregressive process with time constant
 *   DRIFT_TIME_CONSTANT_MS: a camera's view biases a keypoint the same way for a while) and half new
 *   at every instant (a detector's jitter from one frame to the next);
 * - a keypoint that fewer than MIN_CAMERAS_FOR_KEYPOINT cameras have in their image is unknown (null),
 *   as the tracker leaves it, since one view cannot place a point in 3D.
 * With `noiseM` 0 the skeletons pass exactly as they are, every keypoint known.
 * `cameras` lists the cameras whose image holds the person's hips (projected, without occlusion).
 * The same recording, noise and seed give the same messages, whatever else the process does: each
 * person's errors come from their own random stream, forked by seed and person id.
 */

/** How long a keypoint's drifting error stays alike (its autocorrelation falls by e over it), ms. */
export const DRIFT_TIME_CONSTANT_MS = 1_000;
/** The share of each coordinate's error variance that drifts; the rest is new at every instant. */
export const DRIFT_VARIANCE_SHARE = 0.5;
/** A point seen by fewer cameras than this cannot be triangulated; the tracker reports it as null. */
export const MIN_CAMERAS_FOR_KEYPOINT = 2;
/** A point this far outside an image (pixels) still counts as seen: a detector finds limbs at the very edge. */
const IMAGE_MARGIN_PX = 0;
const LEFT_HIP = 11;
const RIGHT_HIP = 12;

export interface TruthPeopleOptions {
  /** Standard deviation of each coordinate's error, metres; 0 for the exact truth. */
  noiseM: number;
  seed: number;
}

interface PersonNoise {
  random: Random;
  /** Drifting part of every coordinate, 17 x 3, metres. */
  drift: Float64Array;
  lastTs: number;
}

export async function* truthPeople(recording: Recording, options: TruthPeopleOptions): AsyncGenerator<PeopleTracked> {
  const { noiseM, seed } = options;
  if (!(noiseM >= 0)) throw new RangeError(`noiseM must be 0 or more metres, not ${noiseM}`);
  const cameras = recording.store.cameras;
  const storeId = recording.manifest.storeId;
  const noises = new Map<string, PersonNoise>();
  for await (const instant of recording.truthSkeletons()) {
    const people: TrackedPerson[] = instant.people.map((person) => {
      const keypoints: Array<Vec3 | null> =
        noiseM > 0 ? noisyKeypoints(person.keypoints, personNoise(noises, seed, person.personId, noiseM), instant.ts, noiseM, cameras) : person.keypoints;
      return { trackId: `truth-${person.personId}`, keypoints, cameras: camerasSeeing(cameras, person.keypoints) };
    });
    yield { schemaVersion: SCHEMA_VERSION, eventId: `tracked-${storeId}-${instant.ts}`, storeId, ts: instant.ts, people };
  }
}

function personNoise(noises: Map<string, PersonNoise>, seed: number, personId: string, noiseM: number): PersonNoise {
  let noise = noises.get(personId);
  if (!noise) {
    const random = createRandom(hashString(`${seed}:people-truth:${personId}`));
    const driftSd = noiseM * Math.sqrt(DRIFT_VARIANCE_SHARE);
    // The drift starts from its stationary spread, so the first instant is as noisy as any other.
    noise = { random, drift: Float64Array.from({ length: 17 * 3 }, () => random.normal(0, driftSd)), lastTs: Number.NaN };
    noises.set(personId, noise);
  }
  return noise;
}

function noisyKeypoints(truth: Vec3[], noise: PersonNoise, ts: number, noiseM: number, cameras: readonly Camera[]): Array<Vec3 | null> {
  const driftSd = noiseM * Math.sqrt(DRIFT_VARIANCE_SHARE);
  const jitterSd = noiseM * Math.sqrt(1 - DRIFT_VARIANCE_SHARE);
  const gap = Number.isNaN(noise.lastTs) ? 0 : ts - noise.lastTs;
  const keep = Math.exp(-gap / DRIFT_TIME_CONSTANT_MS);
  const fresh = driftSd * Math.sqrt(1 - keep * keep);
  noise.lastTs = ts;
  return truth.map((point, k) => {
    const moved = [0, 1, 2].map((axis) => {
      const at = k * 3 + axis;
      noise.drift[at] = keep * noise.drift[at] + noise.random.normal(0, fresh);
      return point[axis] + noise.drift[at] + noise.random.normal(0, jitterSd);
    }) as Vec3;
    // Draws are made whether or not the point is seen, so that visibility never shifts later errors.
    return cameras.length > 0 && seenBy(cameras, point) < MIN_CAMERAS_FOR_KEYPOINT ? null : moved;
  });
}

function seenBy(cameras: readonly Camera[], point: Vec3): number {
  let seen = 0;
  for (const camera of cameras) if (inImage(camera, projectPoint(camera, point), IMAGE_MARGIN_PX)) seen++;
  return seen;
}

function camerasSeeing(cameras: readonly Camera[], keypoints: Vec3[]): string[] {
  const hips: Vec3 = [0, 1, 2].map((axis) => (keypoints[LEFT_HIP][axis] + keypoints[RIGHT_HIP][axis]) / 2) as Vec3;
  return cameras.filter((camera) => inImage(camera, projectPoint(camera, hips), IMAGE_MARGIN_PX)).map((camera) => camera.id);
}
