import assert from 'node:assert/strict';
import test from 'node:test';
import { KP, type Vec3 } from '../contracts/index.ts';
import { distance3 } from '../geometry/linalg.ts';
import { skeleton, type BodyPose } from '../sim/body.model.ts';
import type { FusedPerson } from './multiview.pose.ts';
import { DEFAULT_TRACKER_OPTIONS, flipSides, trackPeople, type TrackedInstant } from './people.tracker.ts';

const still: BodyPose = { x: 0, y: 0, heading: 0, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 };
const shape = { heightM: 1.75, build: 0.5 };

/** A person as the fusion would give them: their 3D keypoints, seen by two cameras. */
function fused(body: Vec3[], sideSupport = 0.9): FusedPerson {
  return {
    keypoints: body.map((point) => ({ point, score: 0.8, views: [0, 1] })),
    members: [
      { view: 0, pose: 0, mirrored: false },
      { view: 1, pose: 0, mirrored: false },
    ],
    sideSupport,
  };
}

/** A walk at 1.2 m/s along `heading`, sampled every `stepS` seconds (0.5 unless given). */
function walk(from: [number, number], heading: number, steps: number, stepS = 0.5): Array<{ ts: number; body: Vec3[] }> {
  return Array.from({ length: steps }, (_, i) => {
    const d = 1.2 * stepS * i;
    return {
      ts: i * stepS * 1000,
      body: skeleton(shape, { ...still, x: from[0] + d * Math.cos(heading), y: from[1] + d * Math.sin(heading), heading, walk: 1, gaitPhase: 1.3 * i }),
    };
  });
}

/** The same person as the fusion gives them when most cameras read them the other way round. */
const misread = (body: Vec3[], sideSupport: number): FusedPerson => ({ ...flipSides(fused(body)), sideSupport });
/**
 * The tracker without the face: these skeletons all carry a nose ahead of the shoulders, which
 * alone would turn any misread instant round; tests of the other evidence leave it out.
 */
const NO_FACE = { ...DEFAULT_TRACKER_OPTIONS, faceWeight: 0 };
const leftWristOf = (person: FusedPerson) => person.keypoints[KP.left_wrist]!.point;
/** Whether the person's left wrist is nearer the body's left wrist than its right: sides, not places (tracks smooth places). */
const rightWayRound = (person: FusedPerson, body: Vec3[]) =>
  distance3(leftWristOf(person), body[KP.left_wrist]) < distance3(leftWristOf(person), body[KP.right_wrist]);

test('a walker read from behind (swapped by most cameras) at every instant is turned round by the direction of travel', () => {
  const path = walk([1, 2], 0.4, 8);
  // At every instant the cameras' majority read them mirrored, with a clear margin.
  const instants: TrackedInstant[] = path.map(({ ts, body }) => ({ ts, people: [misread(body, 0.8)] }));
  const { instants: out, tracks } = trackPeople(instants, NO_FACE);
  assert.equal(tracks.length, 1);
  assert.equal(tracks[0].points.length, 8);
  out.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], path[i].body), `instant ${i} turned back`));
  assert.ok(out[0].people[0].members.every((m) => !m.mirrored), "every camera's reading turned back with them");
  assert.ok(out.every((instant) => Math.abs(instant.people[0].sideSupport - 0.2) < 1e-9), 'the cameras now disagree with the sides given');
});

test('a walker read right most of the time keeps their sides, and the instants read the other way are put right', () => {
  const path = walk([5, 1], 2.2, 8);
  const wrong = new Set([2, 5, 6]);
  const instants = path.map(({ ts, body }, i) => ({ ts, people: [wrong.has(i) ? misread(body, 0.7) : fused(body, 0.7)] }));
  const { instants: out } = trackPeople(instants, NO_FACE);
  out.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], path[i].body), `instant ${i}`));
});

test('someone standing still keeps the sides most instants give them', () => {
  const body = skeleton(shape, { ...still, x: 3, y: 3, heading: 1 });
  const instants = Array.from({ length: 6 }, (_, i) => ({ ts: i * 500, people: [i === 3 ? misread(body, 0.55) : fused(body, 0.75)] }));
  const { instants: out, tracks } = trackPeople(instants, NO_FACE);
  assert.equal(tracks.length, 1);
  out.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], body), `instant ${i}`));
});

test('two people passing each other stay two tracks, each put right', () => {
  const a = walk([1, 2], 0, 8);
  const b = walk([5.2, 2.5], Math.PI, 8);
  const instants = a.map(({ ts, body }, i) => ({ ts, people: [misread(body, 0.8), i % 3 === 0 ? misread(b[i].body, 0.6) : fused(b[i].body, 0.8)] }));
  const { instants: out, tracks } = trackPeople(instants, NO_FACE);
  assert.equal(tracks.length, 2);
  for (const track of tracks) assert.ok(new Set(track.points.map((p) => p.person)).size === 1, 'a track keeps to one person');
  out.forEach((instant, i) => {
    assert.ok(rightWayRound(instant.people[0], a[i].body), `a at ${i}`);
    assert.ok(rightWayRound(instant.people[1], b[i].body), `b at ${i}`);
  });
});

test('instants too far apart to follow anyone are left as the cameras read them', () => {
  const path = walk([1, 2], 0.4, 5).map((p, i) => ({ ...p, ts: i * 3000 }));
  const instants = path.map(({ ts, body }) => ({ ts, people: [misread(body, 0.8)] }));
  const { instants: out, tracks } = trackPeople(instants, NO_FACE);
  assert.equal(tracks.length, 5);
  out.forEach((instant, i) => assert.ok(!rightWayRound(instant.people[0], path[i].body), `instant ${i} unchanged`));
});

test('sides learnt while walking carry through a turn to a shelf into a short stand the cameras read the wrong way round, unsure', () => {
  const path = walk([1, 1], 0, 10, 0.1);
  const end = path.at(-1)!;
  const at = end.body[11].map((v, i) => (v + end.body[12][i]) / 2);
  // Turn left by 90 degrees over 0.4 s, then stand facing the shelf. Each instant of standing that
  // most cameras read the other way wears the walking's evidence down (turnCost 2 against 2 x 0.6 x
  // 0.2 a step, each step counted as a fifth of an instant at 10 frames a second: about 4 s), as on
  // real detections, where the votes are more often right.
  const turning = Array.from({ length: 4 }, (_, i) => ({
    ts: end.ts + (i + 1) * 100,
    body: skeleton(shape, { ...still, x: at[0], y: at[1], heading: ((i + 1) * Math.PI) / 8 }),
  }));
  const standing = Array.from({ length: 3 }, (_, i) => ({ ts: turning.at(-1)!.ts + (i + 1) * 100, body: skeleton(shape, { ...still, x: at[0], y: at[1], heading: Math.PI / 2 }) }));
  const all = [...path, ...turning, ...standing];
  // Walking, the cameras read them right; at the shelf they see their back and most read them swapped.
  const instants = all.map(({ ts, body }, i) => ({ ts, people: [i < path.length ? fused(body, 0.75) : misread(body, 0.6)] }));
  const { instants: out } = trackPeople(instants, NO_FACE);
  out.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], all[i].body), `instant ${i} of ${all.length}`));
});

test('the same walk and stand decide the same sides at 2 and at 10 frames a second: evidence counts by the time an instant stands for', () => {
  // Walking 2 s read right, then standing 3 s (facing the same way) read the other way round by a
  // thin majority. Turning round costs the same at any frame rate; the stand's votes must not weigh
  // five times as much because the cameras sent five times as many frames.
  const sides = (stepS: number, options?: Parameters<typeof trackPeople>[1]) => {
    const walking = walk([1, 1], 0, Math.round(2 / stepS), stepS);
    const end = walking.at(-1)!;
    const standing = Array.from({ length: Math.round(3 / stepS) }, (_, i) => ({
      ts: end.ts + (i + 1) * stepS * 1000,
      body: skeleton(shape, { ...still, x: 1 + 1.2 * (2 - stepS) + 0.01, y: 1, heading: 0 }),
    }));
    const all = [...walking, ...standing];
    const instants = all.map(({ ts, body }, i) => ({ ts, people: [i < walking.length ? fused(body, 0.75) : misread(body, 0.6)] }));
    const out = trackPeople(instants, options).instants;
    return out.map((instant, i) => rightWayRound(instant.people[0], all[i].body));
  };
  assert.ok(sides(0.5, NO_FACE).every(Boolean), 'at 2 frames a second');
  assert.ok(sides(0.1, NO_FACE).every(Boolean), 'at 10 frames a second');
  // Counting every instant in full, the 30 votes of the stand at 10 frames a second outweigh the turn.
  assert.ok(!sides(0.1, { ...NO_FACE, evidencePeriodMs: 1 }).every(Boolean));
});

test('at 10 frames a second a wrist misplaced in one frame is put back by its neighbours, and a keypoint missing in one frame is filled', () => {
  const body = skeleton(shape, { ...still, x: 3, y: 3, heading: 1 });
  const instants = Array.from({ length: 10 }, (_, i) => {
    const person = fused(body);
    if (i === 4) person.keypoints[KP.left_wrist] = { point: [body[KP.left_wrist][0] + 0.3, body[KP.left_wrist][1], body[KP.left_wrist][2]], score: 0.8, views: [0, 1] };
    if (i === 6) person.keypoints[KP.left_elbow] = null;
    return { ts: i * 100, people: [person] };
  });
  const { instants: out } = trackPeople(instants);
  assert.ok(distance3(leftWristOf(out[4].people[0]), body[KP.left_wrist]) < 1e-9, 'the misplaced wrist is back');
  const elbow = out[6].people[0].keypoints[KP.left_elbow];
  assert.ok(elbow && distance3(elbow.point, body[KP.left_elbow]) < 1e-9, 'the missing elbow is filled');
  assert.deepEqual(elbow.views, [], 'no camera saw the filled elbow');
  // Without smoothing, or with instants too far apart to smooth over, both stay as fused.
  const off = trackPeople(instants, { ...DEFAULT_TRACKER_OPTIONS, smoothWindowMs: 0 }).instants;
  assert.ok(distance3(leftWristOf(off[4].people[0]), body[KP.left_wrist]) > 0.29);
  assert.equal(off[6].people[0].keypoints[KP.left_elbow], null);
  const sparse = trackPeople(instants.map((instant, i) => ({ ...instant, ts: i * 500 }))).instants;
  assert.ok(distance3(leftWristOf(sparse[4].people[0]), body[KP.left_wrist]) > 0.29);
});

test('someone standing at a shelf, read from behind by most cameras, is turned to face the shelf; away from shelves they are left as read', () => {
  // Facing +x (heading 0), 0.4 m from the front of a shelf.
  const body = skeleton(shape, { ...still, x: 3, y: 3, heading: 0 });
  const shelf = { min: [3.4, 2.4, 0] as Vec3, max: [3.9, 3.6, 1.8] as Vec3 };
  const instants = Array.from({ length: 6 }, (_, i) => ({ ts: i * 500, people: [misread(body, 0.7)] }));
  const atShelf = trackPeople(instants, NO_FACE, [shelf]).instants;
  atShelf.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], body), `instant ${i} faces the shelf`));
  const noShelf = trackPeople(instants, NO_FACE).instants;
  noShelf.forEach((instant, i) => assert.ok(!rightWayRound(instant.people[0], body), `instant ${i} as read, with no shelves known`));
  const farShelf = { min: [5, 2.4, 0] as Vec3, max: [5.5, 3.6, 1.8] as Vec3 };
  const far = trackPeople(instants, NO_FACE, [farShelf]).instants;
  far.forEach((instant, i) => assert.ok(!rightWayRound(instant.people[0], body), `instant ${i} as read, the shelf 2 m away`));
});

test('the face settles the sides of someone standing away from shelves: the nose lies ahead of the shoulders whatever the cameras called left', () => {
  const body = skeleton(shape, { ...still, x: 3, y: 3, heading: 1 });
  const instants = Array.from({ length: 6 }, (_, i) => ({ ts: i * 500, people: [misread(body, 0.7)] }));
  const withFace = trackPeople(instants, { ...DEFAULT_TRACKER_OPTIONS, faceWeight: 0.6 }).instants;
  withFace.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], body), `instant ${i} turned to face where the nose points`));
  const without = trackPeople(instants, NO_FACE).instants;
  without.forEach((instant, i) => assert.ok(!rightWayRound(instant.people[0], body), `instant ${i} as read without the face`));
  // A nose the cameras did not place (seen from behind) says nothing: the reading stays as the cameras gave it.
  const noNose = instants.map((instant) => ({ ...instant, people: instant.people.map((p) => ({ ...p, keypoints: p.keypoints.map((k, j) => (j === KP.nose ? null : k)) })) }));
  trackPeople(noNose, { ...DEFAULT_TRACKER_OPTIONS, faceWeight: 0.6 }).instants.forEach((instant, i) => assert.ok(!rightWayRound(instant.people[0], body), `instant ${i} without a nose`));
  // A nose put on the back of the head (as a model does seeing someone from behind) does not
  // overrule a walker the cameras read right: it weighs as one unanimous vote, walking as much again.
  const path = walk([1, 2], 0.4, 8);
  const backOfHead = path.map(({ ts, body }) => {
    const person = fused(body, 0.9);
    const nose = person.keypoints[KP.nose]!;
    const shoulders = [0, 1].map((c) => (body[KP.left_shoulder][c] + body[KP.right_shoulder][c]) / 2);
    const behind: Vec3 = [2 * shoulders[0] - nose.point[0], 2 * shoulders[1] - nose.point[1], nose.point[2]];
    return { ts, people: [{ ...person, keypoints: person.keypoints.map((k, j) => (j === KP.nose ? { ...nose, point: behind } : k)) }] };
  });
  trackPeople(backOfHead).instants.forEach((instant, i) => assert.ok(rightWayRound(instant.people[0], path[i].body), `walking instant ${i} kept`));
});

test('arms keep their length: an elbow or wrist found short of the joint for a while is stretched back out along the limb, a long one left alone', () => {
  const body = skeleton(shape, { ...still, x: 3, y: 3, heading: 1, rightHand: { target: [3.4, 3.5, 1.1], amount: 1 } });
  const towards = (from: Vec3, to: Vec3, share: number): Vec3 => [0, 1, 2].map((c) => to[c] + (from[c] - to[c]) * share) as Vec3;
  const sighted = (point: Vec3) => ({ point, score: 0.8, views: [0, 1] });
  // 20 instants at 10 a second; for 0.6 s the model puts the left wrist 40 % of the way back to its
  // elbow, then for 0.5 s the right elbow a third of the way back to its shoulder (the wrist with it),
  // and for 0.5 s the left wrist 10 cm beyond the joint. Too long to smooth away.
  const instants = Array.from({ length: 20 }, (_, i) => {
    const person = fused(body);
    const kp = person.keypoints;
    if (i >= 2 && i < 8) kp[KP.left_wrist] = sighted(towards(body[KP.left_elbow], body[KP.left_wrist], 0.4));
    if (i >= 10 && i < 15) {
      const shift = towards(body[KP.right_shoulder], body[KP.right_elbow], 1 / 3).map((v, c) => v - body[KP.right_elbow][c]);
      kp[KP.right_elbow] = sighted(body[KP.right_elbow].map((v, c) => v + shift[c]) as Vec3);
      kp[KP.right_wrist] = sighted(body[KP.right_wrist].map((v, c) => v + shift[c]) as Vec3);
    }
    if (i >= 15) kp[KP.left_wrist] = sighted(towards(body[KP.left_elbow], body[KP.left_wrist], -0.1 / distance3(body[KP.left_elbow], body[KP.left_wrist])));
    return { ts: i * 100, people: [person] };
  });
  const { instants: out } = trackPeople(instants);
  const off = trackPeople(instants, { ...DEFAULT_TRACKER_OPTIONS, keepArmLengths: false }).instants;
  const error = (o: TrackedInstant[], i: number, k: number) => distance3(o[i].people[0].keypoints[k]!.point, body[k]);
  for (let i = 3; i < 7; i++) {
    assert.ok(error(off, i, KP.left_wrist) > 0.08, `without: the short wrist stays short at ${i}`);
    assert.ok(error(out, i, KP.left_wrist) < 0.005, `left wrist at ${i}: ${error(out, i, KP.left_wrist)}`);
    // Its camera readings move with it: the fusion's 3D move is recorded for posesInView.
    assert.ok(out[i].people[0].keypoints[KP.left_wrist]!.moved);
  }
  for (let i = 11; i < 14; i++) {
    assert.ok(error(off, i, KP.right_elbow) > 0.05 && error(off, i, KP.right_wrist) > 0.05, `without, at ${i}`);
    assert.ok(error(out, i, KP.right_elbow) < 0.005, `right elbow at ${i}: ${error(out, i, KP.right_elbow)}`);
    assert.ok(error(out, i, KP.right_wrist) < 0.005, `right wrist at ${i}: ${error(out, i, KP.right_wrist)}`);
  }
  // Found too long: left where the model put it, 10 cm off.
  for (let i = 16; i < 19; i++) assert.ok(Math.abs(error(out, i, KP.left_wrist) - 0.1) < 1e-6, `long wrist at ${i}: ${error(out, i, KP.left_wrist)}`);
  // Arms found at their length are not moved.
  assert.equal(out[0].people[0].keypoints[KP.left_wrist]!.moved, undefined);
});

/** A zone of the kiosk's floor, as the store gives it: x0..x1 by y0..y1 metres. */
const floorRect = (x0: number, y0: number, x1: number, y1: number): Array<[number, number]> => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

test('someone gone at the exit has left: the next person in the queue stepping onto their spot keeps their own track', () => {
  const exit = floorRect(4.8, 0, 5.8, 0.8);
  const at = (x: number, y: number) => skeleton(shape, { ...still, x, y, heading: -Math.PI / 2 });
  // Alice waits at the gate (5.4, 0.5) until 2.0 s and is gone; bob queues behind her, 0.15 m off,
  // and steps onto her spot at 2.4 s. Instants every 0.1 s.
  const instants: TrackedInstant[] = Array.from({ length: 35 }, (_, i) => {
    const ts = i * 100;
    const bob = ts < 2400 ? at(5.25, 0.65) : at(5.4, 0.5);
    return { ts, people: [...(ts <= 2000 ? [fused(at(5.4, 0.5))] : []), fused(bob)] };
  });
  const bobsTrack = (exits: Array<Array<[number, number]>>) => {
    const { tracks } = trackPeople(instants, NO_FACE, [], { exits });
    // Bob is the last person of every instant; which track holds him at 1.0 s and at 3.0 s?
    const holding = (i: number) => tracks.find((t) => t.points.some((p) => p.instant === i && p.person === instants[i].people.length - 1))!.id;
    return [holding(10), holding(30)];
  };
  const [before, after] = bobsTrack([exit]);
  assert.equal(after, before, 'bob keeps his track');
  // Without the exit, alice's track (exactly where he now stands, unseen for 0.4 s) takes him.
  const [withoutBefore, withoutAfter] = bobsTrack([]);
  assert.notEqual(withoutAfter, withoutBefore);
});

test('at the entry a newcomer stands where the one before stood: people already inside take their tracks first', () => {
  const entry = floorRect(3.6, 0, 4.6, 0.8);
  const at = (x: number, y: number) => skeleton(shape, { ...still, x, y, heading: Math.PI / 2, walk: 1 });
  // Two a second: the parent steps in at (4.1, 0.5) at 0 s and walks in at 1.2 m/s; the kid steps
  // onto the same spot at 0.5 s, when the parent is 0.6 m on and her track has no heading yet.
  const instants: TrackedInstant[] = [0, 1, 2, 3].map((i) => ({
    ts: i * 500,
    people: [fused(at(4.1, 0.5 + 0.6 * i)), ...(i >= 1 ? [fused(at(4.1, 0.5 + 0.6 * (i - 1)))] : [])],
  }));
  const parentsTrack = (entries: Array<Array<[number, number]>>) => {
    const { tracks } = trackPeople(instants, NO_FACE, [], { entries });
    // The parent is the first person of every instant: one track holds all four of her instants?
    return tracks.find((t) => t.points.some((p) => p.instant === 0))!.points.map((p) => `${p.instant}/${p.person}`);
  };
  assert.deepEqual(parentsTrack([entry]), ['0/0', '1/0', '2/0', '3/0']);
  assert.deepEqual(parentsTrack([]).slice(0, 2), ['0/0', '1/1'], 'without the entry the kid takes her track');
});
