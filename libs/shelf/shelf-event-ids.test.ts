import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { indexStore, parseStore, type ShelfEventDetected } from '../contracts/index.ts';
import { planShelfActivity, shelfActivityTicks } from '../sim/shelf-activity.sim.ts';
import { BaselineDetector } from './baseline.detector.ts';
import { ShelfPerception, type ShelfEventSource } from './shelf.perception.ts';

/**
 * A shelf event is named after what it is (shelf, when its segment started, kind), never after how
 * many events the process saw before: a shelf service restarted after a crash, or a replay started
 * later, names the same event the same way, and consumers drop the second copy by its id.
 */

const index = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const T0 = 1_700_000_000_000;
const SHELF = 'g1-s1';
/** Quiet readings a detector started fresh sees before the events compared (its noise estimate settles in 4.5 s). */
const WARM_UP_MS = 6_000;

const plan = planShelfActivity({ index, shelfIds: [SHELF], startMs: T0, durationMs: 90_000, seed: 11 });
const ticks = [...shelfActivityTicks(index, plan, 11)];

function run(makeSource: (onEvent: (event: ShelfEventDetected) => void) => ShelfEventSource, fromMs: number): ShelfEventDetected[] {
  const events: ShelfEventDetected[] = [];
  const source = makeSource((event) => events.push(event));
  for (const tick of ticks) if (tick.ts >= fromMs) source.push(tick.shelfId, tick.ts, tick.grams);
  source.finish();
  return events;
}

/** A restart point in a quiet stretch well into the stream, after at least two events. */
function restartPoint(events: ShelfEventDetected[]): number {
  for (let i = 1; i + 1 < events.length; i++) if (events[i + 1].startMs - events[i].endMs > 2_000) return events[i].endMs + 1_000;
  throw new Error('fixture: no quiet stretch between events');
}

for (const [name, makeSource] of [
  ['shelf perception', (onEvent: (event: ShelfEventDetected) => void) => new ShelfPerception({ index, onEvent })],
  ['the baseline detector', (onEvent: (event: ShelfEventDetected) => void) => new BaselineDetector({ index, onEvent })],
] as const) {
  test(`${name}: a detector started later names the events it shares with the first one the same way`, () => {
    const whole = run(makeSource, -Infinity);
    assert.equal(new Set(whole.map((event) => event.eventId)).size, whole.length, 'ids are unique');
    const restartAt = restartPoint(whole);
    const again = run(makeSource, restartAt);
    const compared = (events: ShelfEventDetected[]) => events.filter((event) => event.startMs >= restartAt + WARM_UP_MS);
    assert.ok(compared(whole).length >= 3, `enough events after the restart to compare: ${compared(whole).length}`);
    assert.deepEqual(
      compared(again).map((event) => event.eventId),
      compared(whole).map((event) => event.eventId),
    );
    for (const event of whole) {
      assert.equal(event.shelfEventId, event.eventId);
      assert.match(event.eventId, new RegExp(`^(se|bl)-${SHELF}-\\d+-${event.kind}`));
    }
  });
}
