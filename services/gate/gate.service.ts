import { WalkoutError, type GateOpened, type GateQrScanned, type PeopleTracked, type ReviewItemResolved, type StoreIndex, type topics } from '../../libs/contracts/index.ts';
import type { EntryVerifier } from '../../libs/entry/entry.verifier.ts';
import { createOutbox, RecentIds, type Bus, type Delivery, type Release, type Subscription } from '../../libs/bus/index.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { createEntryCheck, GATE_ENTRY_GROUP } from './entry.check.ts';
import {
  GATE_BEFORE_SEEN_MS,
  VisitBinder,
  type BinderOutput,
  type ReviewVerdict,
  type VisitView,
} from '../../libs/visits/visit.binder.ts';

/**
 * The gate service: the entry gate's scans and every gate's openings (`gate.qr-scanned`,
 * `gate.opened`) and the tracker's people (`tracking.people-tracked`) in; visits out
 * (`visit.started`, `visit.track-bound`, `visit.ended`, keyed by visit, and `review.item-opened` for
 * doubtful bindings and tailgating). The rules are libs/visits/visit.binder.ts's; this wires it to
 * the bus. With an entry verifier it also checks the codes the entry gates read
 * (`gate.code-presented`, entry.check.ts): a good code becomes the verified `gate.qr-scanned` the
 * binder takes, a bad one `gate.entry-refused`, which the binder never sees. It also takes the
 * reviewers' decisions (`review.item-resolved`): a `bound` decision on a binding item it opened
 * moves the track to the decided visit if need be and publishes its binding again without doubt
 * (reason `reviewed`), and withdraws (`review.item-resolved`, outcome `withdrawn`) the binding item
 * of the other track of the pair when that decision answered it too; any other decision, or one
 * about an item, track or visit it does not hold, changes nothing and is logged and counted
 * (`reviewDecisions`), and one on its own item that it cannot apply (one that does not hold
 * together, or would move someone into or out of a visit that has ended) is answered with a
 * `review.decision-refused` saying why.
 *
 * Its state is the whole store's (who is in, on which tracks), so it runs as one member of the
 * `gate` group per store: its inputs come keyed by visit, gate and store, and a member that saw only
 * some of them would bind the wrong people.
 *
 * Nothing is lost and nothing is applied twice:
 * - A message whose event id was taken lately is not applied again; what the first delivery left
 *   unpublished is published then.
 * - The handler returns only once what the message produced is published (in order, one at a time);
 *   a failed publish fails the handler and the bus delivers the message again.
 * - Every message is held (Delivery.hold) while a binder started afresh would need it to rebuild
 *   the visits still open (VisitBinder.restartPoint: from the first sighting of their people, at
 *   most MAX_HOLD_MS back). After a crash the next owner reads them again, rebuilds those visits and
 *   names what it decides the same way; consumers drop what was already published by id.
 */

export const GATE_GROUP = 'gate';
export { GATE_ENTRY_GROUP };
/**
 * Input is held at most this long (store time) behind the newest instant, ms: a restart replays at
 * most this much (the binder goes through it thousands of times faster than the store clock). A
 * visit open longer than this (staff on a shift) is not rebuilt by a restart.
 */
export const MAX_HOLD_MS = 20 * 60_000;

export interface GateServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  clock?: Clock;
  logger?: Logger;
  /** Checks the entry codes the gates read; without it `gate.code-presented` is not taken (a replay carries verified scans). */
  entry?: EntryVerifier;
}

export interface GateServiceStats {
  /** Messages published so far, per topic (a reader has caught up with this service once it has seen as many). */
  publishedByTopic: Record<string, number>;
  /** Messages taken off the bus and applied (not counting redeliveries). */
  messages: number;
  /** Messages delivered again and left alone. */
  redelivered: number;
  /** Visit and review messages published. */
  published: number;
  /** Publishes that failed (tried again; the input behind them stays uncommitted meanwhile). */
  publishFailures: number;
  /** Times a long visit made the service let input go that a restart would need (MAX_HOLD_MS). */
  holdsGivenUp: number;
  /** Messages held now, for a restart to read again. */
  held: number;
  /** Visits open now, and ended so far. */
  openVisits: number;
  endedVisits: number;
  /** Service-clock ms since the last people instant (how stale the binder's time is). */
  peopleSilentMs: number;
  /** Entry code readings that let someone in, and that were refused (redeliveries counted again). */
  codesAdmitted: number;
  codesRefused: number;
  /** Review decisions taken, by what they did (applied; unchanged: already so or a repeat; unknown, refused, after-exit: not taken; ignored: not a binding decision). */
  reviewDecisions: Record<ReviewVerdict, number>;
}

export interface GateService {
  start(): Promise<void>;
  /** Stops taking messages and leaves the group; what is held stays uncommitted for the next owner. Call flush() first at the end of a replay. */
  stop(): Promise<void>;
  /** The end of a replay: decides what waits for later instants, publishes it, releases every message. */
  flush(): Promise<void>;
  stats(): GateServiceStats;
  visits(): VisitView[];
  visitOfTrack(trackId: string): string | undefined;
}

type GateTopic = 'gate.qr-scanned' | 'gate.opened' | 'tracking.people-tracked' | 'review.item-resolved';

export function createGateService(deps: GateServiceDependencies): GateService {
  const { index, bus } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const binder = new VisitBinder(index);
  const seen = new RecentIds();
  const stats = { messages: 0, redelivered: 0, publishFailures: 0, holdsGivenUp: 0 };
  const outbox = createOutbox<BinderOutput>({
    bus,
    logger,
    failureMessage: 'gate service could not publish; the input behind it stays uncommitted and comes again',
    onFailure: () => stats.publishFailures++,
  });
  let heardPeopleAt = clock.now();
  let subscription: Subscription | undefined;
  const codeCheck = deps.entry && createEntryCheck({ index, bus, logger, verifier: deps.entry });
  /** Held messages by stream, oldest first: people instants by their time, gate messages by theirs. */
  let heldPeople: Array<{ ts: number; release: Release }> = [];
  let heldGate: Array<{ ts: number; release: Release }> = [];

  const apply = (topic: GateTopic, message: GateQrScanned | GateOpened | PeopleTracked | ReviewItemResolved) => {
    if (message.storeId !== index.store.id)
      throw new WalkoutError('MESSAGE_INVALID', `${topic} ${message.eventId} is from store ${message.storeId}; this gate service binds visits of ${index.store.id}`);
    if (!seen.add(`${topic}/${message.eventId}`)) {
      stats.redelivered++;
      return;
    }
    stats.messages++;
    if (topic === 'tracking.people-tracked') {
      heardPeopleAt = clock.now();
      outbox.push(...binder.onPeople(message as PeopleTracked));
    } else if (topic === 'review.item-resolved') {
      const result = binder.onReviewResolved(message as ReviewItemResolved);
      if (result.verdict === 'applied') logger.info('a reviewer decided a doubtful binding', { detail: result.detail });
      else if (result.verdict === 'unknown' || result.verdict === 'refused' || result.verdict === 'after-exit')
        logger.warn('a review decision changed no binding', { verdict: result.verdict, detail: result.detail });
      outbox.push(...result.outputs);
    } else outbox.push(...binder.onGate(message as GateQrScanned | GateOpened));
  };

  /** Lets go of what a restarted binder would not need, once everything produced so far is published. */
  const releaseSettled = (all = false) => {
    if (outbox.size > 0 && !all) return;
    let { people: peopleBefore, gate: gateBefore } = all ? { people: Infinity, gate: Infinity } : binder.restartPoint();
    // A visit open for very long (staff on a shift) would hold everything since it began.
    const holdFloor = binder.watermark - MAX_HOLD_MS;
    if (peopleBefore < holdFloor && heldPeople.length > 0 && heldPeople[0].ts < holdFloor) {
      stats.holdsGivenUp++;
      logger.warn('a visit has been open longer than a restart may replay; older input is let go', { maxHoldMs: MAX_HOLD_MS, restartPoint: peopleBefore });
      peopleBefore = holdFloor;
      gateBefore = Math.max(gateBefore, holdFloor - GATE_BEFORE_SEEN_MS);
    }
    const letGo = (held: Array<{ ts: number; release: Release }>, before: number) => {
      const keep: typeof held = [];
      for (const entry of held) {
        if (entry.ts < before) entry.release();
        else keep.push(entry);
      }
      return keep;
    };
    heldPeople = letGo(heldPeople, peopleBefore);
    heldGate = letGo(heldGate, gateBefore);
  };

  const handle = (delivery: Delivery<typeof topics, GateTopic>): void | Promise<void> => {
    const { topic, message } = delivery;
    apply(topic, message);
    // Held whether new or a redelivery: either way a restart may need it again.
    (topic === 'tracking.people-tracked' ? heldPeople : heldGate).push({ ts: message.ts, release: delivery.hold() });
    if (outbox.size === 0) {
      releaseSettled();
      return;
    }
    return outbox.publish().then(() => releaseSettled());
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: GATE_GROUP,
        topics: ['gate.qr-scanned', 'gate.opened', 'tracking.people-tracked', 'review.item-resolved'],
        handle: (delivery) => handle(delivery as Delivery<typeof topics, GateTopic>),
      });
      await codeCheck?.start();
    },
    async stop() {
      await codeCheck?.stop();
      await subscription?.close();
      subscription = undefined;
    },
    async flush() {
      outbox.push(...binder.finish());
      await outbox.publish();
      releaseSettled(true);
    },
    stats: () => {
      const visits = binder.counts();
      const published = outbox.publishedByTopic();
      return {
        ...stats,
        published: Object.values(published).reduce((sum, n) => sum + n, 0),
        held: heldPeople.length + heldGate.length,
        openVisits: visits.open,
        endedVisits: visits.ended,
        peopleSilentMs: clock.now() - heardPeopleAt,
        publishedByTopic: { ...published, ...codeCheck?.publishedByTopic() },
        codesAdmitted: codeCheck?.stats().admitted ?? 0,
        codesRefused: codeCheck?.stats().refused ?? 0,
        reviewDecisions: binder.reviewVerdicts(),
      };
    },
    visits: () => binder.visits(),
    visitOfTrack: (trackId) => binder.visitOfTrack(trackId),
  };
}
