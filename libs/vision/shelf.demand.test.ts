import assert from 'node:assert/strict';
import test from 'node:test';
import { indexStore, loadStore, type ShelfActivityReported } from '../contracts/index.ts';
import { ShelfDemand, shelfCameraShelves, type FrameDecision } from './shelf.demand.ts';

/**
 * Which shelf-camera frames are read given the shelves' activity: the decision alone, on frames
 * every 200 ms (a 10 fps camera read every 2nd frame), with a 1 s pre-roll and a 0.4 s tail.
 */
const PRE_ROLL_MS = 1_000;
const TAIL_MS = 400;
const FRAME_MS = 200;

const demand = (watching: Record<string, string[]>) => new ShelfDemand(new Map(Object.entries(watching)), { preRollMs: PRE_ROLL_MS, tailMs: TAIL_MS });
const report = (shelfId: string, ts: number, state: ShelfActivityReported['state'], since = ts) => ({ shelfId, ts, state, since });

/** The decision for each frame of a camera from `fromMs` to `toMs`, as the frames' times: which are read, passed over, waiting. */
function decisions(shelves: ShelfDemand, cameraId: string, fromMs: number, toMs: number): Record<FrameDecision, number[]> {
  const out: Record<FrameDecision, number[]> = { read: [], pass: [], wait: [] };
  for (let ts = fromMs; ts <= toMs; ts += FRAME_MS) out[shelves.decide(cameraId, ts)].push(ts);
  return out;
}

test('a shelf camera reads from the pre-roll before its shelf becomes active to the tail after it comes to rest, and passes over the rest', () => {
  const shelves = demand({ 'cam-5': ['s1'] });
  shelves.report(report('s1', 0, 'at-rest'));
  shelves.report(report('s1', 3_000, 'active'));
  shelves.report(report('s1', 4_000, 'at-rest'));
  shelves.report(report('s1', 10_000, 'at-rest', 4_000));
  const { read, pass, wait } = decisions(shelves, 'cam-5', 0, 8_000);
  // Active 3.0 to 4.0 s: read from 2.0 s (pre-roll) to 4.4 s (tail).
  assert.deepEqual(read, [2_000, 2_200, 2_400, 2_600, 2_800, 3_000, 3_200, 3_400, 3_600, 3_800, 4_000, 4_200, 4_400]);
  assert.deepEqual(pass.slice(0, 3), [0, 200, 400]);
  assert.equal(pass.at(-1), 8_000);
  assert.deepEqual(wait, []);
});

test('a frame waits until its shelves are judged a pre-roll past it; a change reported then calls for the frames it kept waiting', () => {
  const shelves = demand({ 'cam-5': ['s1'] });
  shelves.report(report('s1', 5_000, 'at-rest', 0));
  // Judged up to 5.0 s: frames up to 4.0 s are decided, later ones wait for the pre-roll to be judged.
  assert.deepEqual(decisions(shelves, 'cam-5', 3_600, 4_600), { read: [], pass: [3_600, 3_800, 4_000], wait: [4_200, 4_400, 4_600] });
  // The shelf becomes active at 5.4 s: the frames that waited (the pre-roll) are read.
  shelves.report(report('s1', 5_400, 'active'));
  assert.deepEqual(decisions(shelves, 'cam-5', 4_200, 5_600), { read: [4_400, 4_600, 4_800, 5_000, 5_200, 5_400, 5_600], pass: [4_200], wait: [] });
});

test('overlapping activity of two shelves a camera looks at reads the union; a camera waits for every shelf it looks at', () => {
  const shelves = demand({ 'cam-5': ['s1', 's2'], 'cam-6': ['s2'] });
  shelves.report(report('s1', 0, 'at-rest'));
  shelves.report(report('s2', 0, 'at-rest'));
  shelves.report(report('s1', 2_000, 'active'));
  shelves.report(report('s2', 2_600, 'active'));
  shelves.report(report('s1', 3_000, 'at-rest'));
  shelves.report(report('s2', 4_000, 'at-rest'));
  // s1 is judged up to 3.0 s only: cam-5's frames after 2.0 s that s2 leaves undecided wait for s1.
  shelves.report(report('s2', 9_000, 'at-rest', 4_000));
  assert.deepEqual(decisions(shelves, 'cam-5', 800, 5_000).read, [1_000, 1_200, 1_400, 1_600, 1_800, 2_000, 2_200, 2_400, 2_600, 2_800, 3_000, 3_200, 3_400, 3_600, 3_800, 4_000, 4_200, 4_400]);
  assert.deepEqual(decisions(shelves, 'cam-5', 4_600, 5_000).wait, [4_600, 4_800, 5_000]);
  shelves.report(report('s1', 9_000, 'at-rest', 3_000));
  assert.deepEqual(decisions(shelves, 'cam-5', 4_600, 5_000).pass, [4_600, 4_800, 5_000]);
  // cam-6 looks at s2 only: s1's activity does not call for its frames.
  assert.deepEqual(decisions(shelves, 'cam-6', 800, 1_400), { read: [], pass: [800, 1_000, 1_200, 1_400], wait: [] });
  assert.deepEqual(decisions(shelves, 'cam-6', 1_600, 4_600), { read: [1_600, 1_800, 2_000, 2_200, 2_400, 2_600, 2_800, 3_000, 3_200, 3_400, 3_600, 3_800, 4_000, 4_200, 4_400], pass: [4_600], wait: [] });
});

test('activity of a shelf no camera looks at changes nothing; a camera that looks at no shelf reads every frame', () => {
  const shelves = demand({ 'cam-5': ['s1'], 'cam-7': [] });
  shelves.report(report('s1', 10_000, 'at-rest', 0));
  assert.equal(shelves.report(report('s9', 2_000, 'active')), false);
  assert.deepEqual(shelves.watchers('s9'), []);
  assert.deepEqual(decisions(shelves, 'cam-5', 0, 8_000).read, []);
  assert.deepEqual(decisions(shelves, 'cam-7', 0, 400).read, [0, 200, 400]);
  // A ceiling camera is not read on demand.
  assert.equal(shelves.onDemand('cam-1'), false);
  assert.equal(shelves.decide('cam-1', 0), 'read');
});

test('a report older than one taken (from before a restart) is left; the same one again changes nothing', () => {
  const shelves = demand({ 'cam-5': ['s1'] });
  assert.equal(shelves.report(report('s1', 6_000, 'at-rest', 0)), true);
  // An activity that ended before what the shelf has been judged up to comes too late: the frames are decided.
  assert.equal(shelves.report(report('s1', 3_000, 'active')), false);
  assert.deepEqual(decisions(shelves, 'cam-5', 2_000, 4_000).read, []);
  assert.equal(shelves.report(report('s1', 6_000, 'at-rest', 0)), true);
  assert.equal(shelves.knownUntil('s1'), 6_000);
  assert.deepEqual(decisions(shelves, 'cam-5', 4_800, 5_200), { read: [], pass: [4_800, 5_000], wait: [5_200] });
});

test('a silent shelf holds no frame back, and an activity open when it fell silent ends there', () => {
  const shelves = demand({ 'cam-5': ['s1'] });
  shelves.report(report('s1', 1_000, 'active', 1_000));
  shelves.report(report('s1', 2_000, 'silent', 2_000));
  const { read, pass, wait } = decisions(shelves, 'cam-5', 0, 4_000);
  assert.deepEqual(read, [0, 200, 400, 600, 800, 1_000, 1_200, 1_400, 1_600, 1_800, 2_000, 2_200, 2_400]);
  assert.deepEqual(pass, [2_600, 2_800, 3_000, 3_200, 3_400, 3_600, 3_800, 4_000]);
  assert.deepEqual(wait, []);
  // Heard again: it holds frames back once more.
  shelves.report(report('s1', 5_000, 'at-rest', 5_000));
  assert.equal(shelves.decide('cam-5', 4_400), 'wait');
});

test('activity that ended long ago is forgotten without changing a decision still to come', () => {
  const shelves = demand({ 'cam-5': ['s1'] });
  shelves.report(report('s1', 1_000, 'active'));
  shelves.report(report('s1', 2_000, 'at-rest'));
  shelves.report(report('s1', 8_000, 'at-rest', 2_000));
  shelves.forgetBefore(6_000);
  assert.equal(shelves.decide('cam-5', 6_000), 'pass');
  assert.equal(shelves.decide('cam-5', 2_200), 'pass', 'forgotten: no frame from then is to be decided any more');
});

test('in the demo store each shelf camera looks at the shelves where reaching hands are in its image', async () => {
  const index = indexStore(await loadStore('fixtures/stores/kiosk-shelf-cams.json'));
  const watching = shelfCameraShelves(index);
  assert.deepEqual([...watching.keys()], ['cam-5', 'cam-6']);
  // cam-5 is mounted over g1 looking across the aisle: the hands at g1's lowest shelf are under it, out of its image.
  assert.deepEqual(watching.get('cam-5'), ['g1-s2', 'g1-s3', 'g1-s4', 'g2-s1', 'g2-s2', 'g2-s3', 'g2-s4']);
  assert.deepEqual(watching.get('cam-6'), ['g1-s1', 'g1-s2', 'g1-s3', 'g1-s4', 'g2-s2', 'g2-s3', 'g2-s4']);
});
