import { SCHEMA_VERSION, topics, type GateLine, type GateOpened, type GateQrScanned, type PeopleTracked, type ReviewItemResolved, type Vec3 } from '../contracts/index.ts';
import type { BinderOutput } from './visit.binder.ts';
import { arrivalOrder, type BinderInput } from './bindings.eval.ts';

/**
 * Small hand-made scenes on the kiosk for the gate's tests (the binder's and the service's): people
 * walking straight lines, scans and gate openings, reviewers' decisions.
 */

export const T0 = 1_780_000_000_000;
export const STEP_MS = 100;
// Kiosk places: the entry zone is x 3.6..4.6, y 0..0.8; the exit x 4.8..5.8, y 0..0.8; the staff door x 5.2..6, y 4.2..5.
export const AT_ENTRY: [number, number] = [4.1, 0.4];
export const AT_EXIT: [number, number] = [5.3, 0.4];

const body = (x: number, y: number): Vec3[] => Array.from({ length: 17 }, (_, k) => [x, y, 1.7 - k * 0.1] as Vec3);

/** Where each track is at each instant: a function of store time, or null when it is not seen. */
export type Path = (ts: number) => [number, number] | null;

/** A path that stands at `from` until t0, walks straight to `to` by t1, stands there until `until`, then is gone. */
export function walk(from: [number, number], to: [number, number], appearMs: number, t0: number, t1: number, untilMs = Infinity): Path {
  return (ts) => {
    if (ts < appearMs || ts > untilMs) return null;
    const f = Math.max(0, Math.min(1, (ts - t0) / (t1 - t0)));
    return [from[0] + (to[0] - from[0]) * f, from[1] + (to[1] - from[1]) * f];
  };
}

/** One path, then another from `switchMs` on. */
export const then = (first: Path, switchMs: number, second: Path): Path => (ts) => (ts < switchMs ? first(ts) : second(ts));

export function instants(paths: Record<string, Path>, fromMs: number, toMs: number): PeopleTracked[] {
  const out: PeopleTracked[] = [];
  for (let ts = fromMs; ts <= toMs; ts += STEP_MS) {
    const people = Object.entries(paths).flatMap(([trackId, path]) => {
      const p = path(ts);
      return p ? [{ trackId, keypoints: body(p[0], p[1]), cameras: [] }] : [];
    });
    out.push({ schemaVersion: SCHEMA_VERSION, eventId: `i-${ts}`, storeId: 'kiosk', ts, people });
  }
  return out;
}

export const scan = (visitId: string, ts: number, partySize = 1): GateQrScanned => ({
  schemaVersion: SCHEMA_VERSION,
  eventId: `scan-${visitId}`,
  storeId: 'kiosk',
  ts,
  gateId: 'gate-entry',
  visitId,
  accountId: `acct-${visitId}`,
  partySize,
});

export const opened = (kind: 'entry' | 'exit' | 'staff', ts: number, visitId?: string): GateOpened => ({
  schemaVersion: SCHEMA_VERSION,
  eventId: `opened-${kind}-${ts}`,
  storeId: 'kiosk',
  ts,
  gateId: kind === 'entry' ? 'gate-entry' : kind === 'exit' ? 'gate-exit' : 'gate-staff',
  kind,
  ...(visitId ? { visitId } : {}),
});

/** A reviewer's decision on an item. */
export const resolved = (reviewId: string, decision: ReviewItemResolved['decision'], ts = T0 + 20_000, eventId = `resolved-${reviewId}-${ts}`): ReviewItemResolved => ({
  schemaVersion: SCHEMA_VERSION,
  eventId,
  storeId: 'kiosk',
  ts,
  reviewId,
  decision,
  reviewer: 'operator-1',
});

type MessageOn<T extends BinderOutput['topic']> = Extract<BinderOutput, { topic: T }>['message'];
export const of = <T extends BinderOutput['topic']>(outputs: BinderOutput[], topic: T): Array<MessageOn<T>> =>
  outputs.filter((o) => o.topic === topic).map((o) => o.message as MessageOn<T>);

/** Every message the binder says must pass its topic's schema. */
export function assertValid(outputs: BinderOutput[]) {
  for (const { topic, message } of outputs) topics[topic].schema.parse(message);
}

/** Two people through the gate within a second on two scans (v-a, then v-b), staying inside: the inputs in the order they reach the gate live. */
export function twoAtOnce(): BinderInput[] {
  const paths = {
    'track-a': walk([3.8, 0.4], [2, 2.5], T0, T0 + 1000, T0 + 3000),
    'track-b': walk([4.4, 0.4], [3, 2.5], T0, T0 + 1400, T0 + 3400),
  };
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 300) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 600) },
  ];
  return arrivalOrder(gates, instants(paths, T0, T0 + 9000));
}
