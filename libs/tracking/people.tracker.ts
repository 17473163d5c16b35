import { KP, type Box3, type Store, type Vec3 } from '../contracts/index.ts';
import { insidePolygon } from '../geometry/floor-plane.ts';
import { add3, distance3, norm3, scale3, sub3 } from '../geometry/linalg.ts';
import { MIRRORED_KEYPOINTS } from '../vision/pose.detector.ts';
import { FOREARMS, type FusedKeypoint, type FusedPerson } from './multiview.pose.ts';

/**
 * People fused at each instant (multiview.pose.ts), followed over time. At one instant the cameras'
 * majority decides a person's left and right, and from behind most cameras may read them swapped.
 * Over time and place four things settle it: a person keeps their sides from one instant to the
 * next (a body rarely turns round between two instants), the nose lies ahead of the shoulders
 * (a point the cameras cannot read the wrong way round), a walking person faces where they go, and
 * a person standing at a shelf faces the shelf. So people are linked into tracks by where they
 * stand and where they were heading, and along each track the most likely reading of their sides
 * at every instant is chosen (settleTrack). When the instants
 * are close (10 frames a second), each tracked keypoint is then smoothed over its neighbours in time
 * (smoothTrack), which outvotes a keypoint the model misplaced in one frame and fills one it missed.
 * Last, each person's arms keep their length along the track (keepLimbLengths): an elbow or wrist
 * found short of the joint is moved back out along the limb.
 */

export interface TrackerOptions {
  /** A person moves at most this fast, metres per second (plus `slackM` for the fusion's noise). */
  maxSpeedMps: number;
  slackM: number;
  /** Instants further apart than this are not linked: too long to follow anyone's sides. */
  maxGapMs: number;
  /** Cost of a body turning round (180 degrees) between two instants; a smaller turn costs (1 - cos) / 2 of it. */
  turnCost: number;
  /** From this speed the direction of travel says which way a person faces. */
  minWalkingMps: number;
  /** Weight of the cameras' side votes against walking (1 = one instant of walking at 1 m/s or more). */
  voteWeight: number;
  /**
   * A person standing (not walking) within `shelfReachM` of a shelf most likely faces it: that
   * counts this much, as much as the cameras' vote when they all agree, for a reading that faces
   * the shelf (or turns its back on it) by a cosine of `shelfFullCos` or more, in proportion below:
   * the fused torso's direction is off by tens of degrees for people at a shelf. Only when the
   * shelves are given.
   */
  shelfWeight: number;
  shelfReachM: number;
  shelfFullCos: number;
  /**
   * The face says which way a person faces whatever the cameras called left and right: the fused
   * nose lies ahead of the shoulders' midpoint (about 10 cm for a head held up). A reading whose
   * facing agrees with the nose's offset counts this much for it, in full from `faceFullM` along
   * the facing and in proportion below (against it when the nose lies behind).
   */
  faceWeight: number;
  faceFullM: number;
  /**
   * The votes and walking at an instant count in full when it stands for this long (half the time
   * from the track's previous point to its next), less in proportion when the frames are closer:
   * at 10 frames a second five instants say what one says at 2, against the same cost of turning.
   */
  evidencePeriodMs: number;
  /**
   * Walking direction is measured over the track points up to this long before and after an
   * instant (at least the nearest on each side): at 10 frames a second the fusion's few centimetres
   * of noise between neighbouring instants would otherwise read as steps.
   */
  velocitySpanMs: number;
  /**
   * Each 3D keypoint of a tracked person becomes the median of that keypoint over the track's points
   * up to this long before and after (when at least `minSmoothPoints` have it; one it lacks is filled
   * in the same way): at 10 frames a second a wrist the model misplaces in one frame is outvoted by
   * its neighbours. 0 turns it off; instants further apart than this are left alone.
   */
  smoothWindowMs: number;
  minSmoothPoints: number;
  /**
   * Arms keep their length: along a track, each of a person's upper arms (shoulder to elbow) and
   * forearms (elbow to wrist), left and right pooled, is as long as the median of its 3D lengths
   * over the track's points, and a limb found shorter is stretched out to it from the joint nearer
   * the body (the elbow carrying the wrist with it), in 3D and in each camera's own reading. A pose
   * model tends to put elbows and wrists short of the joint, most of all on arms a camera sees
   * end-on; a limb found longer is left alone. Needs `minLimbLengths` lengths of a limb in a track.
   */
  keepArmLengths: boolean;
  minLimbLengths: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = Object.freeze({
  maxSpeedMps: 2.5,
  slackM: 0.3,
  maxGapMs: 1000,
  turnCost: 2,
  minWalkingMps: 0.4,
  voteWeight: 0.6,
  shelfWeight: 0.6,
  shelfReachM: 0.9,
  shelfFullCos: 0.5,
  faceWeight: 0.6,
  faceFullM: 0.06,
  evidencePeriodMs: 500,
  velocitySpanMs: 500,
  smoothWindowMs: 200,
  minSmoothPoints: 3,
  keepArmLengths: true,
  minLimbLengths: 5,
});

export interface TrackedInstant {
  ts: number;
  people: FusedPerson[];
}

/** One person over time: which fused person they are at each instant they were seen. */
export interface Track {
  id: number;
  points: Array<{ instant: number; person: number; flipped: boolean }>;
}

interface Body {
  centre: [number, number];
  /** Horizontal direction from their right side to their left, as fused (not normalised). */
  left: [number, number] | null;
  /** Horizontal offset of the nose from the shoulders' midpoint, metres; null without them. */
  ahead: [number, number] | null;
}

const SHOULDERS_AND_HIPS: Array<[number, number]> = [
  [KP.left_shoulder, KP.right_shoulder],
  [KP.left_hip, KP.right_hip],
];

/**
 * Where a person stands on the floor: the mean of their shoulders and hips (those found) seen from
 * above; null without any. The tracker follows this point, and tracking is scored on it.
 */
export function floorCentre(keypoints: ReadonlyArray<Vec3 | null | undefined>): [number, number] | null {
  const points = SHOULDERS_AND_HIPS.flat().map((k) => keypoints[k]).filter((p): p is Vec3 => !!p);
  if (!points.length) return null;
  return [points.reduce((s, p) => s + p[0], 0) / points.length, points.reduce((s, p) => s + p[1], 0) / points.length];
}

function bodyOf(person: FusedPerson): Body | null {
  const centre = floorCentre(person.keypoints.map((k) => k?.point));
  if (!centre || person.members.length < 2) return null;
  let lx = 0;
  let ly = 0;
  let pairs = 0;
  for (const [l, r] of SHOULDERS_AND_HIPS) {
    const a = person.keypoints[l]?.point;
    const b = person.keypoints[r]?.point;
    if (!a || !b) continue;
    lx += a[0] - b[0];
    ly += a[1] - b[1];
    pairs++;
  }
  const nose = person.keypoints[KP.nose]?.point;
  const shoulders = [KP.left_shoulder, KP.right_shoulder].map((k) => person.keypoints[k]?.point);
  const ahead: [number, number] | null =
    nose && shoulders[0] && shoulders[1] ? [nose[0] - (shoulders[0][0] + shoulders[1][0]) / 2, nose[1] - (shoulders[0][1] + shoulders[1][1]) / 2] : null;
  return { centre, left: pairs && Math.hypot(lx, ly) > 0.05 ? [lx, ly] : null, ahead };
}

type FloorPolygon = ReadonlyArray<readonly [number, number]>;

/** Where people come into the store and where they leave it, as trackPeople takes them. */
export interface Doorways {
  entries?: readonly FloorPolygon[];
  exits?: readonly FloorPolygon[];
}

/** The store's shelves and doorways (entry zones; exit and staff-door zones), as trackPeople takes them. */
export function storePlaces(store: Store): { shelves: Box3[]; doorways: Doorways } {
  const zones = (kinds: string[]) => store.layout.zones.filter((z) => kinds.includes(z.kind)).map((z) => z.polygon);
  return { shelves: store.layout.gondolas.map((g) => g.box), doorways: { entries: zones(['entry']), exits: zones(['exit', 'staff-door']) } };
}

/**
 * Links the people of successive instants (sorted by time) into tracks and returns the instants
 * with each person's sides turned to agree with their track, and the tracks. `shelves`: boxes whose
 * floor footprints are shelves people stand at (the store's gondolas); none, no shelf evidence.
 * `doorways`: where people come in and leave. A track last seen in an exit (exit gate, staff
 * door) and missing at the instant after has left, and is not linked again (someone queueing behind
 * steps onto the same spot a moment later). People standing in an entry take tracks after everyone
 * else: there, a newcomer stands where the one before stood, and a track an instant old has no
 * heading yet to tell which is which.
 */
export function trackPeople(
  instants: readonly TrackedInstant[],
  options: TrackerOptions = DEFAULT_TRACKER_OPTIONS,
  shelves: readonly Box3[] = [],
  doorways: Doorways = {},
): { instants: TrackedInstant[]; tracks: Track[] } {
  const exits = doorways.exits ?? [];
  const entries = doorways.entries ?? [];
  const order = instants.map((_, i) => i).sort((a, b) => instants[a].ts - instants[b].ts);
  const bodies = instants.map((instant) => instant.people.map(bodyOf));
  const tracks: Track[] = [];
  // Each live track: where and when it was last seen, and how fast it was going then.
  let active: Array<{ track: Track; ts: number; centre: [number, number]; velocity: [number, number] }> = [];
  let previousTs = -Infinity;
  for (const i of order) {
    const { ts } = instants[i];
    const left = (a: (typeof active)[number]) => a.ts < previousTs && exits.some((exit) => insidePolygon(a.centre, exit));
    active = active.filter((a) => ts - a.ts <= options.maxGapMs && !left(a));
    previousTs = ts;
    const pairs: Array<{ a: number; p: number; d: number }> = [];
    bodies[i].forEach((body, p) => {
      if (!body) return;
      active.forEach((a, ai) => {
        const dt = (ts - a.ts) / 1000;
        const moved = Math.hypot(body.centre[0] - a.centre[0], body.centre[1] - a.centre[1]);
        if (moved > options.maxSpeedMps * dt + options.slackM) return;
        // Paired by distance from where the track was heading, so people passing close keep their tracks.
        const d = Math.hypot(body.centre[0] - (a.centre[0] + a.velocity[0] * dt), body.centre[1] - (a.centre[1] + a.velocity[1] * dt));
        pairs.push({ a: ai, p, d });
      });
    });
    const inEntry = bodies[i].map((body) => !!body && entries.some((entry) => insidePolygon(body.centre, entry)));
    pairs.sort((x, y) => Number(inEntry[x.p]) - Number(inEntry[y.p]) || x.d - y.d);
    const linked = new Set<number>();
    const usedTracks = new Set<number>();
    for (const { a, p } of pairs) {
      if (linked.has(p) || usedTracks.has(a)) continue;
      linked.add(p);
      usedTracks.add(a);
      const track = active[a];
      const centre = bodies[i][p]!.centre;
      const dt = (ts - track.ts) / 1000;
      track.track.points.push({ instant: i, person: p, flipped: false });
      track.velocity = dt > 0 ? [(centre[0] - track.centre[0]) / dt, (centre[1] - track.centre[1]) / dt] : track.velocity;
      track.ts = ts;
      track.centre = centre;
    }
    bodies[i].forEach((body, p) => {
      if (!body || linked.has(p)) return;
      const track: Track = { id: tracks.length + 1, points: [{ instant: i, person: p, flipped: false }] };
      tracks.push(track);
      active.push({ track, ts, centre: body.centre, velocity: [0, 0] });
    });
  }
  for (const track of tracks) settleTrack(track, instants, bodies, options, shelves);
  const out = instants.map((instant) => ({ ts: instant.ts, people: [...instant.people] }));
  for (const track of tracks)
    for (const { instant, person, flipped } of track.points) if (flipped) out[instant].people[person] = flipSides(instants[instant].people[person]);
  if (options.smoothWindowMs > 0) {
    const settled = out.map((instant) => ({ ...instant, people: [...instant.people] }));
    for (const track of tracks) smoothTrack(track, settled, out, options);
  }
  if (options.keepArmLengths)
    for (const track of tracks) {
      // Upper arms first: stretching one moves the elbow, from which the forearm is then measured.
      keepLimbLengths(track, out, UPPER_ARMS, options.minLimbLengths);
      keepLimbLengths(track, out, FOREARM_LIMBS, options.minLimbLengths);
    }
  return { instants: out, tracks };
}

/**
 * Decides, along one track, which instants' readings to turn round: the most likely sequence
 * (Viterbi over two states per instant, reading kept or turned) under five costs. The cameras'
 * vote favours the reading as fused; the face, the reading that faces the way the nose lies from
 * the shoulders; walking, the reading that faces where the person goes; standing at a shelf, the
 * reading that faces the shelf; and between instants, the body turning costs `turnCost` times
 * (1 - cos) / 2 of the angle (nothing to stand still, all of it to turn round), so a turn seen over
 * several instants is followed the short way round. A right-angle turn between two instants reads
 * as well either way; then the votes decide. Votes, face, walking and shelf count by the time the
 * instant stands for, so the frame rate does not change the outcome.
 */
function settleTrack(track: Track, instants: readonly TrackedInstant[], bodies: Array<Array<Body | null>>, options: TrackerOptions, shelves: readonly Box3[]) {
  const points = track.points;
  const n = points.length;
  // emission[i][0]: the cost of keeping the reading at i; emission[i][1]: of turning it round.
  const emission = points.map((point, i): [number, number] => {
    const body = bodies[point.instant][point.person]!;
    let keep = -options.voteWeight * (2 * instants[point.instant].people[point.person].sideSupport - 1);
    const velocity = velocityAt(points, i, instants, bodies, options);
    const speed = velocity ? Math.hypot(...velocity) : 0;
    // Facing = left x up, on the floor.
    const facing: [number, number] | null = body.left && [body.left[1] / Math.hypot(...body.left), -body.left[0] / Math.hypot(...body.left)];
    if (facing && body.ahead)
      keep -= options.faceWeight * Math.max(-1, Math.min(1, (facing[0] * body.ahead[0] + facing[1] * body.ahead[1]) / options.faceFullM));
    if (facing && velocity && speed >= options.minWalkingMps) {
      keep -= ((facing[0] * velocity[0] + facing[1] * velocity[1]) / speed) * Math.min(1, speed);
    } else if (facing && shelves.length) {
      // Standing within reach of a shelf: facing it is likelier than showing it one's back.
      const near = nearestShelf(body.centre, shelves);
      if (near && near.distance <= options.shelfReachM) {
        const cos = facing[0] * near.towards[0] + facing[1] * near.towards[1];
        keep -= options.shelfWeight * Math.max(-1, Math.min(1, cos / options.shelfFullCos));
      }
    }
    // Evidence counts by the time the instant stands for: a second says as much at 10 frames a second as at 2.
    keep *= Math.min(1, instantShareMs(points, i, instants) / options.evidencePeriodMs);
    return [keep, -keep];
  });
  const total: Array<[number, number]> = [emission[0]];
  const from: Array<[number, number]> = [[0, 0]];
  for (let i = 1; i < n; i++) {
    const a = bodies[points[i - 1].instant][points[i - 1].person]!.left;
    const b = bodies[points[i].instant][points[i].person]!.left;
    // How the two readings' left directions agree (0 when either cannot say).
    const c = a && b ? (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(...a) * Math.hypot(...b)) : 0;
    const step: [number, number] = [0, 0];
    const back: [number, number] = [0, 0];
    for (const state of [0, 1] as const)
      for (const previous of [0, 1] as const) {
        // Same choice at both instants: the body turned as the readings did; else the other way.
        const turn = state === previous ? c : -c;
        const cost = total[i - 1][previous] + (options.turnCost * (1 - turn)) / 2;
        if (previous === 0 || cost < step[state]) [step[state], back[state]] = [cost, previous];
      }
    total.push([step[0] + emission[i][0], step[1] + emission[i][1]]);
    from.push(back);
  }
  let state: 0 | 1 = total[n - 1][1] < total[n - 1][0] ? 1 : 0;
  for (let i = n - 1; i >= 0; i--) {
    points[i].flipped = state === 1;
    state = from[i][state] as 0 | 1;
  }
}

/** The nearest point of the shelves' floor footprints to a floor point: how far, and which way (null when inside one). */
function nearestShelf(centre: [number, number], shelves: readonly Box3[]): { distance: number; towards: [number, number] } | null {
  let best: { distance: number; towards: [number, number] } | null = null;
  for (const box of shelves) {
    const x = Math.min(Math.max(centre[0], box.min[0]), box.max[0]);
    const y = Math.min(Math.max(centre[1], box.min[1]), box.max[1]);
    const d = Math.hypot(x - centre[0], y - centre[1]);
    if (d > 1e-6 && (!best || d < best.distance)) best = { distance: d, towards: [(x - centre[0]) / d, (y - centre[1]) / d] };
  }
  return best;
}

/** Half the time from a track point's previous neighbour to its next (the whole gap at either end). */
function instantShareMs(points: Track['points'], i: number, instants: readonly TrackedInstant[]): number {
  const tsOf = (j: number) => instants[points[j].instant].ts;
  if (points.length < 2) return Infinity;
  if (i === 0) return tsOf(1) - tsOf(0);
  if (i === points.length - 1) return tsOf(i) - tsOf(i - 1);
  return (tsOf(i + 1) - tsOf(i - 1)) / 2;
}

/**
 * Floor velocity at a track point from the points around it: from the earliest to the latest within
 * `velocitySpanMs` (central where it can; at least the nearest neighbours), metres per second.
 */
function velocityAt(points: Track['points'], i: number, instants: readonly TrackedInstant[], bodies: Array<Array<Body | null>>, options: TrackerOptions): [number, number] | null {
  const [first, last] = pointsWithin(points, i, instants, options.velocitySpanMs);
  const a = Math.min(first, Math.max(0, i - 1));
  const b = Math.max(last, Math.min(points.length - 1, i + 1));
  if (a === b) return null;
  const dt = (instants[points[b].instant].ts - instants[points[a].instant].ts) / 1000;
  if (!(dt > 0) || dt * 1000 > 2 * Math.max(options.maxGapMs, options.velocitySpanMs)) return null;
  const ca = bodies[points[a].instant][points[a].person]!.centre;
  const cb = bodies[points[b].instant][points[b].person]!.centre;
  return [(cb[0] - ca[0]) / dt, (cb[1] - ca[1]) / dt];
}

/** The first and last of a track's points within `spanMs` of point i, before and after it. */
function pointsWithin(points: Track['points'], i: number, instants: readonly TrackedInstant[], spanMs: number): [number, number] {
  const tsOf = (j: number) => instants[points[j].instant].ts;
  let first = i;
  while (first > 0 && tsOf(i) - tsOf(first - 1) <= spanMs) first--;
  let last = i;
  while (last < points.length - 1 && tsOf(last + 1) - tsOf(i) <= spanMs) last++;
  return [first, last];
}

/**
 * Replaces each keypoint of a track's people in `out` by its median over the track points within
 * `smoothWindowMs` of it in `settled` (sides already settled), component by component; a keypoint a
 * point lacks is filled the same way, with the mean score of those it came from and no views.
 */
function smoothTrack(track: Track, settled: readonly TrackedInstant[], out: TrackedInstant[], options: TrackerOptions) {
  const points = track.points;
  const at = (j: number) => settled[points[j].instant];
  points.forEach((point, i) => {
    const [first, last] = pointsWithin(points, i, settled, options.smoothWindowMs);
    if (last - first + 1 < options.minSmoothPoints) return;
    const person = at(i).people[point.person];
    const keypoints = person.keypoints.map((kp, k) => {
      const near: FusedKeypoint[] = [];
      for (let j = first; j <= last; j++) {
        const q = at(j).people[points[j].person].keypoints[k];
        if (q) near.push(q);
      }
      if (near.length < options.minSmoothPoints) return kp;
      const point = [0, 1, 2].map((c) => median(near.map((q) => q.point[c]))) as Vec3;
      return kp ? { ...kp, point } : { point, score: near.reduce((s, q) => s + q.score, 0) / near.length, views: [] };
    });
    out[point.instant].people[point.person] = { ...person, keypoints };
  });
}

/** A limb: the joint nearer the body, the far joint, and the joints that move with the far one. */
type Limb = [near: number, far: number, carried: number[]];
const UPPER_ARMS: Limb[] = [
  [KP.left_shoulder, KP.left_elbow, [KP.left_elbow, KP.left_wrist]],
  [KP.right_shoulder, KP.right_elbow, [KP.right_elbow, KP.right_wrist]],
];
const FOREARM_LIMBS: Limb[] = FOREARMS.map(([elbow, wrist]) => [elbow, wrist, [wrist]]);

/**
 * Stretches the given limbs (both sides of one kind) of a track's people in `out` that are shorter
 * than the median of their lengths along the track (TrackerOptions.keepArmLengths). Lengths are
 * measured where both joints were seen (a joint the smoothing filled in has no views).
 */
function keepLimbLengths(track: Track, out: TrackedInstant[], limbs: readonly Limb[], minLengths: number) {
  const lengths: number[] = [];
  for (const { instant, person } of track.points)
    for (const [near, far] of limbs) {
      const a = out[instant].people[person].keypoints[near];
      const b = out[instant].people[person].keypoints[far];
      if (a?.views.length && b?.views.length) lengths.push(distance3(a.point, b.point));
    }
  if (lengths.length < minLengths) return;
  const length = median(lengths);
  for (const { instant, person } of track.points) {
    const fused = out[instant].people[person];
    let keypoints = fused.keypoints;
    for (const [near, far, carried] of limbs) {
      const a = keypoints[near];
      const b = keypoints[far];
      if (!a || !b) continue;
      const limb = sub3(b.point, a.point);
      const now = norm3(limb);
      if (!(now > 0) || now >= length) continue;
      const move = scale3(limb, length / now - 1);
      if (keypoints === fused.keypoints) keypoints = [...keypoints];
      for (const k of carried) {
        const kp = keypoints[k];
        if (kp) keypoints[k] = { ...kp, point: add3(kp.point, move), moved: kp.moved ? add3(kp.moved, move) : move };
      }
    }
    if (keypoints !== fused.keypoints) out[instant].people[person] = { ...fused, keypoints };
  }
}

function median(values: number[]): number {
  const sorted = values.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The same person with left and right exchanged, in 3D and in every camera's reading. */
export function flipSides(person: FusedPerson): FusedPerson {
  return {
    keypoints: MIRRORED_KEYPOINTS.map((k) => person.keypoints[k]),
    members: person.members.map((m) => ({ ...m, mirrored: !m.mirrored })),
    sideSupport: 1 - person.sideSupport,
  };
}
