import { SCHEMA_VERSION, type Camera, type PeopleTracked, type SkeletonTruth, type Store, type TrackedPerson, type Vec3 } from '../contracts/index.ts';
import { distanceToPolygonEdge, insidePolygon } from '../contracts/store.frame.ts';
import { inImage, projectPoint } from '../geometry/camera.ts';
import type { Recording } from '../recording/index.ts';
import { createRandom, hashString, type Random } from '../sim/random.ts';
import { floorPoint } from '../visits/visit.binder.ts';

/**
 * True skeletons as the tracker would publish them (`tracking.people-tracked`), so that visits and
 * attribution can be measured apart from vision (`eval receipts --people truth`, the visit-binding
 * bench). Track ids are `truth-<personId>`: a name only, which no stage may read anything into
 * (visits come from the gate); `personOfTrack` says whose each track is, for scorers only.
 *
 * With `noiseM` > 0 the tracker's typical error is added (docs/stages.md, "people from the truth"):
 * - every coordinate of every keypoint is off by a Gaussian error of standard deviation `noiseM`,
 *   half of its variance slowly drifting (a first-order autoregressive process with time constant
 *   DRIFT_TIME_CONSTANT_MS: a camera's view biases a keypoint the same way for a while) and half new
 *   at every instant (a detector's jitter from one frame to the next);
 * - a keypoint that fewer than MIN_CAMERAS_FOR_KEYPOINT cameras have in their image is unknown (null),
 *   as the tracker leaves it, since one view cannot place a point in 3D.
 * With `noiseM` 0 the skeletons pass exactly as they are, every keypoint known.
 * With `breakEveryMs` a person's track breaks now and then away from the doors (they are missing for
 * `breakGapInstants` instants, then come back under `truth-<personId>-<n>`), as a tracker loses
 * people under occlusion: what the visit binder's relinking must undo.
 * `cameras` lists the cameras whose image holds the person's hips (projected, without occlusion).
 * The same skeletons, options and seed give the same messages, whatever else the process does: each
 * person's errors and breaks come from their own random streams, forked by seed and person id.
 */

/** How long a keypoint's drifting error stays alike (its autocorrelation falls by e over it), ms. */
export const DRIFT_TIME_CONSTANT_MS = 1_000;
/** The share of each coordinate's error variance that drifts; the rest is new at every instant. */
export const DRIFT_VARIANCE_SHARE = 0.5;
/** A point seen by fewer cameras than this cannot be triangulated; the tracker reports it as null. */
export const MIN_CAMERAS_FOR_KEYPOINT = 2;
/** Breaks only happen this far from a door zone: a break at a door is a different question (who came in, who left), metres. */
export const BREAK_DOOR_CLEARANCE_M = 1.0;
/** Instants a person is missing at a break, unless the options say otherwise. */
export const DEFAULT_BREAK_GAP_INSTANTS = 5;
/** A person's time between breaks is breakEveryMs times a uniform factor in this range, so breaks do not line up. */
const BREAK_SPREAD = [0.5, 1.5] as const;
/** A point this far outside an image (pixels) still counts as seen: a detector finds limbs at the very edge. */
const IMAGE_MARGIN_PX = 0;
const LEFT_HIP = 11;
const RIGHT_HIP = 12;

export interface TruthPeopleOptions {
  /** Standard deviation of each coordinate's error, metres; 0 (the default) for the exact truth. */
  noiseM?: number;
  seed?: number;
  /** Each person's track breaks about this often (store time on one track, ms); absent: never. */
  breakEveryMs?: number;
  /** Instants a person is missing at a break (DEFAULT_BREAK_GAP_INSTANTS). */
  breakGapInstants?: number;
}

/** The people stream; what it says about tracks fills in as it is read. */
export interface TruthPeople extends AsyncIterable<PeopleTracked> {
  /** Which person each track is (scorers only). */
  readonly personOfTrack: ReadonlyMap<string, string>;
  /** Track breaks made so far. */
  readonly breaks: number;
}

/** A recording's true skeletons as people tracked. */
export function truthPeople(recording: Recording, options: TruthPeopleOptions = {}): TruthPeople {
  return truthPeopleFrom(recording.store, recording.truthSkeletons(), options);
}

/** Any stream of true skeletons (a recording's, a simulation's) in store `store` as people tracked. */
export function truthPeopleFrom(store: Store, skeletons: Iterable<SkeletonTruth> | AsyncIterable<SkeletonTruth>, options: TruthPeopleOptions = {}): TruthPeople {
  const noiseM = options.noiseM ?? 0;
  const seed = options.seed ?? 1;
  if (!(noiseM >= 0)) throw new RangeError(`noiseM must be 0 or more metres, not ${noiseM}`);
  const personOfTrack = new Map<string, string>();
  const tracks = trackBreaker(store, seed, options, personOfTrack);
  const noises = new Map<string, PersonNoise>();
  async function* people(): AsyncGenerator<PeopleTracked> {
    for await (const instant of skeletons) {
      const people: TrackedPerson[] = [];
      for (const person of instant.people) {
        const trackId = tracks.trackOf(person, instant.ts);
        if (trackId === null) continue;
        const keypoints: Array<Vec3 | null> =
          noiseM > 0 ? noisyKeypoints(person.keypoints, personNoise(noises, seed, person.personId, noiseM), instant.ts, noiseM, store.cameras) : person.keypoints;
        people.push({ trackId, keypoints, cameras: camerasSeeing(store.cameras, person.keypoints) });
      }
      yield { schemaVersion: SCHEMA_VERSION, eventId: `tracked-${store.id}-${instant.ts}`, storeId: store.id, ts: instant.ts, people };
    }
  }
  return {
    [Symbol.asyncIterator]: people,
    personOfTrack,
    get breaks() {
      return tracks.breaks;
    },
  };
}

interface PersonTrack {
  trackId: string;
  /** Tracks this person had before this one. */
  segment: number;
  nextBreakMs: number;
  /** Instants still to leave the person out, at a break. */
  missingFor: number;
  random: Random;
}

/** Which track each person is on at each instant (null: missing, at a break), recording each new track in personOfTrack. */
function trackBreaker(store: Store, seed: number, options: TruthPeopleOptions, personOfTrack: Map<string, string>) {
  const gapInstants = options.breakGapInstants ?? DEFAULT_BREAK_GAP_INSTANTS;
  const breakEveryMs = options.breakEveryMs;
  const doors = store.layout.zones.filter((zone) => zone.kind !== 'shopping').map((zone) => zone.polygon);
  const nearDoor = (p: [number, number]) => doors.some((door) => insidePolygon(p, door) || distanceToPolygonEdge(p, door) < BREAK_DOOR_CLEARANCE_M);
  const tracks = new Map<string, PersonTrack>();
  const nextBreak = (track: PersonTrack, ts: number) => (breakEveryMs ? ts + breakEveryMs * track.random.uniform(...BREAK_SPREAD) : Infinity);
  const state = { breaks: 0 };
  const trackOf = (person: SkeletonTruth['people'][number], ts: number): string | null => {
    let track = tracks.get(person.personId);
    if (!track) {
      track = { trackId: `truth-${person.personId}`, segment: 0, nextBreakMs: Infinity, missingFor: 0, random: createRandom(hashString(`${seed}:track-breaks:${person.personId}`)) };
      track.nextBreakMs = nextBreak(track, ts);
      tracks.set(person.personId, track);
      personOfTrack.set(track.trackId, person.personId);
    }
    if (track.missingFor > 0) {
      track.missingFor--;
      if (track.missingFor > 0) return null;
      track.segment++;
      track.trackId = `truth-${person.personId}-${track.segment}`;
      personOfTrack.set(track.trackId, person.personId);
      track.nextBreakMs = nextBreak(track, ts);
    } else if (ts >= track.nextBreakMs && gapInstants > 0) {
      const where = floorPoint({ keypoints: person.keypoints });
      if (where && !nearDoor(where)) {
        state.breaks++;
        track.missingFor = gapInstants;
        return null;
      }
    }
    return track.trackId;
  };
  return {
    trackOf,
    get breaks() {
      return state.breaks;
    },
  };
}

interface PersonNoise {
  random: Random;
  /** Drifting part of every coordinate, 17 x 3, metres. */
  drift: Float64Array;
  lastTs: number;
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

function noisyKeypoints(truth: readonly Vec3[], noise: PersonNoise, ts: number, noiseM: number, cameras: readonly Camera[]): Array<Vec3 | null> {
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

function camerasSeeing(cameras: readonly Camera[], keypoints: readonly Vec3[]): string[] {
  const hips: Vec3 = [0, 1, 2].map((axis) => (keypoints[LEFT_HIP][axis] + keypoints[RIGHT_HIP][axis]) / 2) as Vec3;
  return cameras.filter((camera) => inImage(camera, projectPoint(camera, hips), IMAGE_MARGIN_PX)).map((camera) => camera.id);
}
