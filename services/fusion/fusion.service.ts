import { topics as contractTopics, type StoreIndex } from '../../libs/contracts/index.ts';
import { createOutbox, type Bus, type Delivery, type Release, type Subscription } from '../../libs/bus/index.ts';
import type { Clock } from '../../libs/clock/clock.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { FusionEngine, type FusionOutput } from '../../libs/fusion/fusion.engine.ts';
import type { AttributionParams } from '../../libs/fusion/attribution.model.ts';

/**
 * The fusion service: shelf events, people, visits, carts, camera health and review items in;
 * attributions, review items (opened; withdrawn once a put-back answered a pick in review; decided
 * once a reviewer's gate binding answered a pick or put that followed it) and settled visits out
 * (libs/fusion/fusion.engine.ts decides). One member takes every input
 * (the people stream is one partition, keyed by store): attribution needs the whole store at once.
 *
 * Nothing is lost and nothing is applied twice:
 * - Shelf events are held (Delivery.hold) until they are settled and what they led to is published,
 *   so a crash hands every unsettled event to the next owner again. Visit and cart messages are held
 *   until the visit settles; people instants are released as soon as they are taken, since the
 *   events they bear on are held (the next owner's people stream resumes from the bus's committed
 *   offset, and an event whose evidence is gone goes to review rather than being guessed).
 * - Redelivered messages change nothing: the engine drops shelf events it has seen, instants at or
 *   before its watermark, and cart versions it has.
 * - The handler returns once everything the message produced is published; a failed publish fails
 *   the handler and the bus delivers the message again.
 */

export const FUSION_GROUP = 'fusion';

type FusionTopics = typeof contractTopics;
type InputTopic =
  | 'shelf.event-detected'
  | 'tracking.people-tracked'
  | 'visit.started'
  | 'visit.track-bound'
  | 'visit.ended'
  | 'cart.updated'
  | 'device.health-reported'
  | 'review.item-opened'
  | 'review.item-resolved';
const INPUT_TOPICS: readonly InputTopic[] = [
  'shelf.event-detected',
  'tracking.people-tracked',
  'visit.started',
  'visit.track-bound',
  'visit.ended',
  'cart.updated',
  'device.health-reported',
  'review.item-opened',
  'review.item-resolved',
];

export interface FusionServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<FusionTopics>, 'publish' | 'subscribe'>;
  /** Not read: fusion keeps time by the store clock of the messages (the watermark); here for the shape every service shares. */
  clock?: Clock;
  logger?: Logger;
  params?: AttributionParams;
}

export interface FusionServiceStats {
  /** Messages published so far, per topic (a reader has caught up with this service once it has seen as many). */
  publishedByTopic: Record<string, number>;
  /** Messages taken off the bus, redeliveries included, per input topic. */
  messages: Record<InputTopic, number>;
  attributed: number;
  reviews: number;
  /** Picks in review withdrawn because their shopper put the unit back (answered by that put's decision). */
  withdrawn: number;
  visitsSettled: number;
  publishFailures: number;
  /** Shelf events waiting for the people stream. */
  pending: number;
  /** The people watermark, store clock ms. */
  watermarkMs: number;
  /** Changes no product explains that were too small to be an item (a resting hand): neither attributed nor reviewed. */
  notItemChanges: number;
  /** Changes of several items at once read otherwise than the shelf (`fusion.change-reexplained`). */
  reexplained: number;
  /** Changes a reviewer decided otherwise than the shelf read them, sent to the shelf (`fusion.change-reexplained` naming the review). */
  decidedReadings: number;
  /** Events fusion decided otherwise than the shelf's likeliest reading, sent to the shelf (`fusion.change-reexplained` naming the attribution). */
  attributedReadings: number;
  /** Messages held uncommitted until what settles them is published. */
  held: number;
}

export interface FusionService {
  start(): Promise<void>;
  /** Settles every waiting event and ended visit with what is known (end of a replay) and publishes. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  stats(): FusionServiceStats;
}

export function createFusionService(deps: FusionServiceDependencies): FusionService {
  const { index, bus } = deps;
  const logger = deps.logger ?? silentLogger;
  /** Shelf events settled as no item (a resting hand lifted off, the rest of a split put): nothing is published for them. */
  const noItems: string[] = [];
  const engine = new FusionEngine({
    index,
    params: deps.params,
    onSettled: (record) => {
      if (record.outcome === 'not-an-item') noItems.push(record.event.shelfEventId);
    },
  });
  const messages = Object.fromEntries(INPUT_TOPICS.map((t) => [t, 0])) as Record<InputTopic, number>;
  const counts = { attributed: 0, reviews: 0, withdrawn: 0, reexplained: 0, decidedReadings: 0, attributedReadings: 0, visitsSettled: 0, publishFailures: 0 };
  const outbox = createOutbox<FusionOutput>({
    bus,
    logger,
    failureMessage: 'fusion could not publish; the inputs behind it stay uncommitted and come again',
    onPublished: (output) => release(output),
    onFailure: () => counts.publishFailures++,
  });
  /** Held shelf events by id, and held visit messages by visit id: released once settled and published. */
  const heldEvents = new Map<string, Release[]>();
  const heldVisits = new Map<string, Release[]>();
  let subscription: Subscription | undefined;

  /** What a published output lets go: the shelf event it settled, or a settled visit's messages. */
  const release = (output: FusionOutput) => {
    if (output.topic === 'fusion.visit-settled') {
      counts.visitsSettled++;
      for (const done of heldVisits.get(output.message.visitId) ?? []) done();
      heldVisits.delete(output.message.visitId);
      return;
    }
    // A withdrawal settles no shelf event of its own: the pick's was let go with its review item.
    if (output.topic === 'review.item-resolved') {
      counts.withdrawn++;
      return;
    }
    if (output.topic === 'fusion.event-attributed') counts.attributed++;
    else if (output.topic === 'review.item-opened') counts.reviews++;
    else if (output.message.review !== undefined) counts.decidedReadings++;
    else if (output.message.attributed !== undefined) {
      // Its event was settled by the attribution that came with it.
      counts.attributedReadings++;
      return;
    } else counts.reexplained++;
    // A change read otherwise than the shelf: its shelf events are settled by the message that replaces them.
    const shelfEventIds = output.topic === 'fusion.change-reexplained' ? output.message.replaces : [output.message.shelfEventId];
    for (const shelfEventId of shelfEventIds) if (shelfEventId !== undefined) releaseEvent(shelfEventId);
  };

  /** Lets a held shelf event be committed. */
  const releaseEvent = (shelfEventId: string) => {
    for (const done of heldEvents.get(shelfEventId) ?? []) done();
    heldEvents.delete(shelfEventId);
  };

  const hold = (map: Map<string, Release[]>, key: string, delivery: { hold(): Release }) => {
    const list = map.get(key) ?? [];
    list.push(delivery.hold());
    map.set(key, list);
  };

  const take = (delivery: Delivery<FusionTopics, InputTopic>): FusionOutput[] => {
    messages[delivery.topic]++;
    switch (delivery.topic) {
      case 'shelf.event-detected': {
        const out = engine.onShelfEvent(delivery.message);
        // Held until its attribution or review is published; one this very message settled is no longer pending.
        if (engine.isPending(delivery.message.shelfEventId)) hold(heldEvents, delivery.message.shelfEventId, delivery);
        return out;
      }
      case 'tracking.people-tracked':
        return engine.onPeople(delivery.message);
      case 'visit.started':
        if (!engine.isSettled(delivery.message.visitId)) hold(heldVisits, delivery.message.visitId, delivery);
        return engine.onVisitStarted(delivery.message);
      case 'visit.track-bound':
        if (!engine.isSettled(delivery.message.visitId)) hold(heldVisits, delivery.message.visitId, delivery);
        return engine.onTrackBound(delivery.message);
      case 'visit.ended': {
        const out = engine.onVisitEnded(delivery.message);
        if (!engine.isSettled(delivery.message.visitId)) hold(heldVisits, delivery.message.visitId, delivery);
        return out;
      }
      case 'cart.updated':
        return engine.onCartUpdated(delivery.message);
      case 'device.health-reported':
        return engine.onDeviceHealth(delivery.message);
      case 'review.item-opened':
        // The gate's doubtful bindings say which visits a track may belong to; kept with those visits.
        if (delivery.message.kind === 'binding')
          for (const visitId of delivery.message.visitIds) if (!engine.isSettled(visitId)) hold(heldVisits, visitId, delivery);
        return engine.onReviewOpened(delivery.message);
      case 'review.item-resolved':
        // A person's decision: no put-back of a pick it decided is fusion's to answer any more, and
        // what fusion and the shelf keep of the decided shelf event follows it. (Followed from memory:
        // a restart forgets the events in review, as it forgets what lies misplaced.)
        return engine.onReviewResolved(delivery.message);
    }
  };

  /**
   * Lets go of shelf events settled as no item: nothing will name them, and nothing the engine
   * decides later needs them again. Called once what was published with them is out (a split put's
   * other parts go with the whole put's attribution).
   */
  const releaseNoItems = () => {
    for (const shelfEventId of noItems.splice(0)) releaseEvent(shelfEventId);
  };

  const handle = (delivery: Delivery<FusionTopics, InputTopic>): void | Promise<void> => {
    outbox.push(...take(delivery));
    if (outbox.size === 0) return releaseNoItems();
    return outbox.publish().then(releaseNoItems);
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: FUSION_GROUP,
        topics: INPUT_TOPICS,
        handle: (delivery) => handle(delivery as Delivery<FusionTopics, InputTopic>),
      });
    },
    async flush() {
      outbox.push(...engine.flush());
      await outbox.publish();
      releaseNoItems();
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
    },
    stats: () => ({ messages: { ...messages }, ...counts, held: [...heldEvents.values(), ...heldVisits.values()].reduce((sum, list) => sum + list.length, 0), pending: engine.pendingEvents, watermarkMs: engine.watermarkMs, notItemChanges: engine.notItemChanges, publishedByTopic: outbox.publishedByTopic() }),
  };
}
