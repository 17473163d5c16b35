/**
 * Shelf detectors started fresh partway through a recording, as a shelf service restarted after a
 * crash starts them: do they publish the events one that ran all along publishes, the same to the
 * sample? Restarts from restart points (the detector at rest 1 s before and 5 s after: what
 * services/shelf holds its samples back to) are set against restarts from arbitrary moments (the
 * baseline, measured in the same run). Events are compared in two parts: those that start while the
 * fresh detector warms up (its first 5 s) and those after.
 *
 *   node --import tsx bench/shelf-restart.bench.ts [--recording fixtures/recordings/kiosk-demo] [--every 25] [--json]
 */
import { parseArgs } from 'node:util';
import type { ShelfEventDetected } from '../libs/contracts/index.ts';
import { openRecording } from '../libs/recording/index.ts';
import { recordingShelfTicks } from '../libs/shelf/shelf.replay.ts';
import { ShelfPerception } from '../libs/shelf/shelf.perception.ts';
import { latestRestartPoint, WARM_UP_MS } from '../services/shelf/shelf.service.ts';

/** Arbitrary moments are this far apart (a prime number of ms, so they fall anywhere in a sample). */
const ARBITRARY_EVERY_MS = 997;

const { values } = parseArgs({ options: { recording: { type: 'string' }, every: { type: 'string' }, json: { type: 'boolean' } } });
const recording = await openRecording(values.recording ?? 'fixtures/recordings/kiosk-demo');
const every = Number(values.every ?? 25);

type Tick = { ts: number; grams: Float64Array };
const ticksByShelf = new Map<string, Tick[]>();
for await (const tick of recordingShelfTicks(recording)) {
  let ticks = ticksByShelf.get(tick.shelfId);
  if (!ticks) ticksByShelf.set(tick.shelfId, (ticks = []));
  ticks.push({ ts: tick.ts, grams: Float64Array.from(tick.grams) });
}

interface Run {
  events: ShelfEventDetected[];
  restartPoints: number[];
}

/** Runs one shelf's detector from `fromMs`; returns its events and the restart points it passed (as services/shelf finds them). */
function run(shelfId: string, fromMs: number): Run {
  const events: ShelfEventDetected[] = [];
  const perception = new ShelfPerception({ index: recording.index, onEvent: (event) => events.push(event) });
  const restartPoints: number[] = [];
  let restSince: number | null = null;
  for (const tick of ticksByShelf.get(shelfId)!) {
    if (tick.ts < fromMs) continue;
    perception.push(shelfId, tick.ts, tick.grams);
    if (!perception.detector(shelfId).atRest) restSince = null;
    else {
      restSince ??= tick.ts;
      const point = latestRestartPoint(restSince, tick.ts);
      if (point !== null) restartPoints.push(point);
    }
  }
  return { events, restartPoints };
}

/** Each shelf's run from its first tick: what every restart of it is set against. */
const wholeRuns = new Map([...ticksByShelf.keys()].map((shelfId) => [shelfId, run(shelfId, -Infinity)]));

const sameness = (event: ShelfEventDetected) => `${event.eventId} ${event.kind} ${event.startMs} ${event.endMs} ${event.deltaGrams}`;

interface Tally {
  restarts: number;
  /** Events of the whole run that start in the warm-up of a restart; those the restart does not publish the same; events it makes up there. */
  warmUpEvents: number;
  warmUpMissed: number;
  warmUpMadeUp: number;
  /** Events after the warm-up, and how many differ. */
  laterEvents: number;
  laterWrong: number;
}

function compare(points: (shelfId: string, whole: Run) => number[]): Tally {
  const tally: Tally = { restarts: 0, warmUpEvents: 0, warmUpMissed: 0, warmUpMadeUp: 0, laterEvents: 0, laterWrong: 0 };
  for (const [shelfId, whole] of wholeRuns) {
    for (const fromMs of points(shelfId, whole)) {
      tally.restarts++;
      const restarted = run(shelfId, fromMs).events;
      const again = new Set(restarted.map(sameness));
      const warm = fromMs + WARM_UP_MS;
      const wantWarmUp = whole.events.filter((event) => event.startMs >= fromMs && event.startMs < warm).map(sameness);
      const gotWarmUp = new Set(restarted.filter((event) => event.startMs < warm).map(sameness));
      tally.warmUpEvents += wantWarmUp.length;
      tally.warmUpMissed += wantWarmUp.filter((key) => !again.has(key)).length;
      tally.warmUpMadeUp += [...gotWarmUp].filter((key) => !wantWarmUp.includes(key)).length;
      for (const event of whole.events.filter((event) => event.startMs >= warm)) {
        tally.laterEvents++;
        if (!again.has(sameness(event))) tally.laterWrong++;
      }
    }
  }
  return tally;
}

const fromRestartPoints = compare((_, whole) => [...new Set(whole.restartPoints)].filter((_, i) => i % every === 0));
const fromAnywhere = compare((shelfId) => {
  const ticks = ticksByShelf.get(shelfId)!;
  const moments: number[] = [];
  for (let ts = ticks[0].ts + ARBITRARY_EVERY_MS; ts < ticks[ticks.length - 1].ts - WARM_UP_MS; ts += ARBITRARY_EVERY_MS) moments.push(ts);
  return moments;
});

const share = (wrong: number, of: number) => (of === 0 ? '-' : `${((100 * wrong) / of).toFixed(1)} %`);
if (values.json) process.stdout.write(`${JSON.stringify({ fromRestartPoints, fromAnywhere }, null, 2)}\n`);
else
  process.stdout.write(
    [
      `shelf restart bench: ${recording.manifest.storeId}, ${ticksByShelf.size} shelves; a restart is right when its events are the whole run's (id, kind, start, end, grams)`,
      '                         restarts  events in warm-up  not the same  made up there  events after  not the same',
      ...(
        [
          ['from restart points', fromRestartPoints],
          ['baseline: anywhere', fromAnywhere],
        ] as const
      ).map(
        ([name, tally]) =>
          `${name.padEnd(24)} ${String(tally.restarts).padStart(8)}  ${String(tally.warmUpEvents).padStart(17)}  ${share(tally.warmUpMissed, tally.warmUpEvents).padStart(12)}  ${String(tally.warmUpMadeUp).padStart(13)}  ${String(tally.laterEvents).padStart(12)}  ${share(tally.laterWrong, tally.laterEvents).padStart(12)}`,
      ),
    ].join('\n') + '\n',
  );
