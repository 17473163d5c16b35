import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, appendFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runWalkout } from './cli.run.ts';
import { verbs } from './verbs.ts';

const run = (...args: string[]) => runWalkout(args);

test('walkout lists its verbs, and every verb explains itself with --help', async () => {
  const overview = await run('--help');
  assert.equal(overview.code, 0);
  for (const name of Object.keys(verbs)) {
    assert.match(overview.stdout, new RegExp(`^  ${name} `, 'm'));
    const help = await run(...name.split(' '), '--help');
    assert.equal(help.code, 0, `${name} --help failed: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`walkout ${name}`), `${name} --help shows its usage`);
    // The overview's line (kept in verbs.ts so listing loads no verb) says what the verb's own help says.
    assert.equal(help.stdout.split('\n')[0], verbs[name].summary, `${name}: the overview and --help agree`);
    assert.match(help.stdout, /--json\b/, `${name} has a --json form of what it prints`);
  }
});

test('wrong arguments say what is wrong and exit 2', async () => {
  const unknown = await run('teleport');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown verb "teleport"/);
  const missing = await run('sim', '--scenario', 'fixtures/scenarios/crowd.json');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--out is required/);
  const noFrames = await run('start', '--detect-every', '0');
  assert.equal(noFrames.code, 2);
  assert.match(noFrames.stderr, /--detect-every must be a whole number of frames, 1 or more, got "0"/);
  const noVideo = await run('start', '--detect-every', '10', '--no-video');
  assert.equal(noVideo.code, 2);
  assert.match(noVideo.stderr, /--detect-every needs the video that --no-video leaves out/);
  const badFlag = await run('sim', '--sceanrio', 'x');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--sceanrio'/);
});

test('sim writes a recording and reports it as JSON; a damaged file is named with its line', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-cli-')), 'rec');
  const sim = await run('sim', '--scenario', 'fixtures/scenarios/two-shoppers-one-shelf.json', '--out', out, '--no-video', '--json');
  assert.equal(sim.code, 0, sim.stderr);
  const summary = JSON.parse(sim.stdout);
  assert.equal(summary.visits, 2);
  assert.equal(summary.actions, 3);
  const read = await run('recording', 'summary', out, '--json');
  assert.equal(read.code, 0, read.stderr);
  assert.equal(JSON.parse(read.stdout).truth.picks, 3);
  // Beside the recording: a verb never writes inside what it reads.
  const mapFile = path.join(path.dirname(out), 'map.svg');
  const map = await run('recording', 'map', out, '--out', mapFile, '--json');
  assert.equal(map.code, 0, map.stderr);
  assert.deepEqual(JSON.parse(map.stdout), { wrote: [mapFile] });
  assert.match(await readFile(mapFile, 'utf8'), /^<svg/);
  await appendFile(path.join(out, 'truth/visits.jsonl'), 'not json\n');
  const broken = await run('recording', 'summary', out);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /\[RECORDING_INVALID\] .*truth\/visits\.jsonl:3: not JSON/);
});

test('start runs the store on the in-process bus and scores the demo', async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-start-')), 'demo');
  const start = await run('start', '--no-video', '--json', '--out', out);
  assert.equal(start.code, 0, start.stderr);
  const result = JSON.parse(start.stdout);
  assert.equal(result.bus, 'memory');
  assert.ok(Object.values(result.truthMatchesCommitted).every(Boolean), JSON.stringify(result.truthMatchesCommitted));
  assert.equal(result.shelfEvents.actions, 13);
  assert.ok(result.shelfEvents.f1 >= 0.99, `F1 ${result.shelfEvents.f1}`);
  // Includes a one-unit restock put of crisps while a shopper carries a yogurt of near-equal weight.
  assert.equal(result.shelfEvents.productTop1, 1);
  // Every visit ends with its receipt, and on the demo each is exactly what the shopper took.
  assert.equal(result.receipts.length, 7);
  assert.equal(result.receiptScore.visits, 7);
  assert.equal(result.receiptScore.missingReceipts, 0);
  assert.equal(result.receiptScore.exactMatch, 1);
  assert.deepEqual(result.reviews, []);
  // Checkout has answered every receipt before the store stops: each visit's charge, none left pending.
  assert.equal(result.charges.length, 7);
  assert.deepEqual(result.charges.map((charge: { visitId: string }) => charge.visitId).sort(), result.receipts.map((receipt: { visitId: string }) => receipt.visitId).sort());
  for (const charge of result.charges) {
    const receipt = result.receipts.find((entry: { visitId: string }) => entry.visitId === charge.visitId);
    assert.equal(charge.amountCents, receipt.totalCents, charge.visitId);
    const expected = !receipt.accountId ? 'not-charged' : receipt.totalCents === 0 ? 'voided' : 'captured';
    assert.equal(charge.status, expected, `${charge.visitId}: ${charge.status}`);
  }
  assert.equal(result.checkout.pending, 0);
  assert.equal(result.checkout.charged + result.checkout.nothingToCharge + result.checkout.notCharged, 7);
});

test('eval receipts scores a recording with the JSON keys the issue names, and refuses options that do not fit', async () => {
  const scored = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--json');
  assert.equal(scored.code, 0, scored.stderr);
  const score = JSON.parse(scored.stdout);
  for (const key of ['visits', 'exactMatch', 'receiptF1', 'attributionAccuracy', 'reviewsPer1000', 'calibrationError', 'byTag']) assert.ok(key in score, key);
  assert.equal(score.visits, 7);
  assert.deepEqual(score.people, { source: 'truth', noiseM: 0.05, seed: 1 });
  assert.ok(!('perVisit' in score) && !('reviewItems' in score), 'per visit and per review item only with --details');
  // With the details, and a reviewer in the replay (one run for both: each run is the whole store).
  const detailed = JSON.parse((await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--json', '--details', '--review-after', '30')).stdout);
  assert.equal(detailed.perVisit.length, 7);
  assert.equal(detailed.reviewItems.length, detailed.reviews, 'each review item counted, listed');
  assert.deepEqual(detailed.reviewedDuringRun, { afterS: 30, decisions: detailed.reviews });
  assert.ok(!('reviewedDuringRun' in score), 'no reviewer in the replay unless asked');
  const bogus = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--people', 'guessed');
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /--people is truth or tracked, not "guessed"/);
  const far = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--noise', '5');
  assert.equal(far.code, 2);
  assert.match(far.stderr, /--noise takes metres from 0 to 1/);
  const readTruth = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--whole-every', '5');
  assert.equal(readTruth.code, 2);
  assert.match(readTruth.stderr, /--whole-every applies to --people tracked/);
  const backwards = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--review-after', 'soon');
  assert.equal(backwards.code, 2);
  assert.match(backwards.stderr, /--review-after takes store seconds from 0 to 3600/);
});

test('eval pose --from-detections: a damaged line is named with file and line; flags that do not apply are refused', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-detections-'));
  const file = path.join(dir, 'detections.jsonl');
  const good = {
    schemaVersion: 1,
    eventId: 'kiosk/cam-1/0',
    storeId: 'kiosk',
    ts: 1780000000000,
    cameraId: 'cam-1',
    frameIndex: 0,
    model: 'm',
    poses: [],
  };
  await appendFile(file, `${JSON.stringify(good)}\n${JSON.stringify({ ...good, frameIndex: -1 })}\n`);
  const damaged = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', file);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: frameIndex`));
  const mixed = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', file, '--overlay', dir);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /--overlay does not go with --from-detections/);
});

test('eval pose --from-detections --frames N scores the frames a run over N frames would have, and names one the file lacks', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-detections-'));
  const event = (frameIndex: number) =>
    JSON.stringify({ schemaVersion: 1, eventId: `kiosk/cam-1/${frameIndex}`, storeId: 'kiosk', ts: 1780000000000 + frameIndex * 100, cameraId: 'cam-1', frameIndex, model: 'm', poses: [] });
  // Every frame of cam-1 (the demo has 532 a camera): 4 frames a camera are 0, 133, 266 and 399.
  const every = path.join(dir, 'every.jsonl');
  await appendFile(every, Array.from({ length: 532 }, (_, i) => `${event(i)}\n`).join(''));
  const picked = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', every, '--frames', '4', '--json');
  assert.equal(picked.code, 0, picked.stderr);
  assert.equal(JSON.parse(picked.stdout).cameras[0].summary.frames, 4);
  const all = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', every, '--json');
  assert.equal(JSON.parse(all.stdout).cameras[0].summary.frames, 532, 'without --frames, every saved frame');
  const sparse = path.join(dir, 'sparse.jsonl');
  await appendFile(sparse, [0, 100, 200, 300].map((i) => `${event(i)}\n`).join(''));
  const lacking = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', sparse, '--frames', '4');
  assert.equal(lacking.code, 2);
  assert.match(lacking.stderr, /no frame 133 of cam-1, which 4 frames a camera \(one in 133\) take; save them from every frame \(--frames all\)/);
});

test('eval pose --frames takes a number or "all", and says so', async () => {
  const wrong = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--frames', 'every');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--frames must be a number of frames or "all", got "every"/);
});

test('eval pose --mirror takes on or off, and not with saved detections', async () => {
  const wrong = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--mirror', 'yes');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--mirror must be on or off, got "yes"/);
  const saved = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', 'whatever.jsonl', '--mirror', 'off');
  assert.equal(saved.code, 2);
  assert.match(saved.stderr, /--mirror does not go with --from-detections/);
});

test('eval pose --whole-every takes a whole number of frames and --precision int8, int8-fused or float; start --whole-every and --precision too', async () => {
  const none = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--whole-every', '0');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--whole-every must be a whole number of frames, 1 or more, got "0"/);
  const half = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--precision', 'half');
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--precision is int8, int8-fused, float, not "half"/);
  const saved = await run('eval', 'pose', 'fixtures/recordings/kiosk-demo', '--from-detections', 'whatever.jsonl', '--whole-every', '3');
  assert.equal(saved.code, 2);
  assert.match(saved.stderr, /--whole-every does not go with --from-detections/);
  const start = await run('start', '--whole-every', 'often', '--no-video');
  assert.equal(start.code, 2);
  assert.match(start.stderr, /--whole-every must be a whole number of frames, 1 or more, got "often"/);
  const startHalf = await run('start', '--precision', 'half', '--no-video');
  assert.equal(startHalf.code, 2);
  assert.match(startHalf.stderr, /walkout start: --precision is int8, int8-fused, float, not "half"/);
});

test('start --shelf-cameras is on-demand (the default) or always, needs --detect-every, and takes its pre-roll and tail only on demand; eval receipts takes it with tracked people', async () => {
  const unknown = await run('start', '--detect-every', '2', '--shelf-cameras', 'sometimes', '--no-video');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /walkout start: --shelf-cameras is always or on-demand, not "sometimes"/);
  const alone = await run('start', '--shelf-cameras', 'on-demand', '--no-video');
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /walkout start: --shelf-cameras and its timings apply when the cameras are read/);
  const always = await run('start', '--detect-every', '2', '--shelf-cameras', 'always', '--shelf-pre-roll-ms', '3000', '--no-video');
  assert.equal(always.code, 2);
  assert.match(always.stderr, /--shelf-pre-roll-ms and --shelf-tail-ms apply to --shelf-cameras on-demand/);
  // On demand by default: the timings are taken without --shelf-cameras (the run stops at the video it lacks).
  const byDefault = await run('start', '--detect-every', '2', '--shelf-pre-roll-ms', '3000', '--no-video');
  assert.equal(byDefault.code, 2);
  assert.match(byDefault.stderr, /walkout start: --detect-every needs the video that --no-video leaves out/);
  const receiptsByDefault = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--people', 'tracked', '--shelf-tail-ms', '500', '--whole-every', '0');
  assert.equal(receiptsByDefault.code, 2);
  assert.match(receiptsByDefault.stderr, /--whole-every must be a whole number of frames, 1 or more, got "0"/);
  const receiptsAlways = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--people', 'tracked', '--shelf-cameras', 'always', '--shelf-tail-ms', '500');
  assert.equal(receiptsAlways.code, 2);
  assert.match(receiptsAlways.stderr, /walkout eval receipts: --shelf-pre-roll-ms and --shelf-tail-ms apply to --shelf-cameras on-demand/);
  const negative = await run('start', '--detect-every', '2', '--shelf-cameras', 'on-demand', '--shelf-tail-ms=-1', '--no-video');
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--shelf-tail-ms must be a whole number of ms, 0 or more, got "-1"/);
  const truth = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--shelf-cameras', 'on-demand');
  assert.equal(truth.code, 2);
  assert.match(truth.stderr, /walkout eval receipts: --shelf-cameras and its timings apply when the cameras are read/);
});

test('start --shelf-every and --shelf-whole-every take whole numbers of frames and need --detect-every; eval receipts --precision needs tracked people', async () => {
  const none = await run('start', '--detect-every', '2', '--shelf-every', '0', '--no-video');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--shelf-every must be a whole number of frames, 1 or more, got "0"/);
  const alone = await run('start', '--shelf-whole-every', '5', '--no-video');
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /walkout start: --shelf-every and --shelf-whole-every read the shelf cameras of --detect-every, which is missing/);
  const truth = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--precision', 'int8-fused');
  assert.equal(truth.code, 2);
  assert.match(truth.stderr, /walkout eval receipts: --precision applies to --people tracked/);
  const half = await run('eval', 'receipts', 'fixtures/recordings/kiosk-demo', '--people', 'tracked', '--precision', 'half');
  assert.equal(half.code, 2);
  assert.match(half.stderr, /walkout eval receipts: --precision is int8, int8-fused, float, not "half"/);
});
