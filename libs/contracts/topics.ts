import { z } from 'zod';
import { SCHEMA_VERSION } from './common.schema.ts';
import * as events from './events.schema.ts';
import * as visits from './visits.schema.ts';
import * as checkout from './checkout.schema.ts';

/**
 * The topic map: every arrow of the data flow. Names are `domain.past-tense-event`; the partition key
 * keeps per-camera, per-shelf and per-visit order, which is what lets the bus spread work.
 */
interface TopicSpec<S extends z.ZodType> {
  schema: S;
  key: (message: z.infer<S>) => string;
  description: string;
  /** The newest message of each key is what counts (Kafka's compaction); see the bus's TopicSpec. */
  compacted?: boolean;
}

const topic = <S extends z.ZodType>(spec: TopicSpec<S>) => spec;

export const topics = {
  'gate.qr-scanned': topic({
    schema: events.GateQrScanned,
    key: (m) => m.visitId,
    description: 'A shopper scanned the app QR code at an entry gate.',
  }),
  'gate.code-presented': topic({
    schema: events.GateCodePresented,
    key: (m) => m.gateId,
    description: 'An entry gate read a code off a phone; the gate service verifies it.',
  }),
  'gate.entry-refused': topic({
    schema: events.GateEntryRefused,
    key: (m) => m.gateId,
    description: 'The gate service refused an entry code, with the reason; nobody is admitted.',
  }),
  'gate.opened': topic({
    schema: events.GateOpened,
    key: (m) => m.gateId,
    description: 'A gate opened.',
  }),
  'camera.frame-captured': topic({
    schema: events.CameraFrameCaptured,
    key: (m) => m.cameraId,
    description: 'A frame is ready to read (by reference).',
  }),
  'camera.poses-detected': topic({
    schema: events.CameraPosesDetected,
    key: (m) => m.cameraId,
    description: 'People and their keypoints in one frame.',
  }),
  'tracking.people-tracked': topic({
    schema: events.PeopleTracked,
    key: (m) => m.storeId,
    description: 'Everyone in the store at one instant, in 3D, on their tracks.',
  }),
  'shelf.samples-recorded': topic({
    schema: events.ShelfSamplesRecorded,
    key: (m) => m.shelfId,
    description: 'Raw load-cell samples.',
  }),
  'shelf.event-detected': topic({
    schema: events.ShelfEventDetected,
    key: (m) => m.shelfId,
    description: 'A pick or put seen by the load cells.',
  }),
  'shelf.activity-reported': topic({
    schema: events.ShelfActivityReported,
    key: (m) => m.shelfId,
    description: 'Whether a shelf\'s weights are moving, and how far they have been judged (drives shelf cameras read on demand).',
  }),
  'shelf.stock-snapshot': topic({
    schema: events.ShelfStockSnapshot,
    key: (m) => m.shelfId,
    description: 'What a shelf holds at a restart point of its samples (compacted: the newest per shelf), for the next owner of the shelf to start from.',
    compacted: true,
  }),
  'device.health-reported': topic({
    schema: events.DeviceHealthReported,
    key: (m) => m.deviceId,
    description: 'A device changed health.',
  }),
  'visit.started': topic({
    schema: visits.VisitStarted,
    key: (m) => m.visitId,
    description: 'A visit began (QR scan, staff door, or someone without a scan).',
  }),
  'visit.track-bound': topic({
    schema: visits.VisitTrackBound,
    key: (m) => m.visitId,
    description: 'A track belongs to a visit from now on.',
  }),
  'visit.ended': topic({
    schema: visits.VisitEnded,
    key: (m) => m.visitId,
    description: 'Everyone of a visit has left the store.',
  }),
  'fusion.event-attributed': topic({
    schema: visits.EventAttributed,
    key: (m) => m.visitId,
    description: 'Who moved what at a shelf, with a calibrated confidence.',
  }),
  'fusion.change-reexplained': topic({
    schema: events.ChangeReexplained,
    key: (m) => m.shelfId,
    description: 'A change of several items at once that fusion read otherwise than the shelf, by what the shoppers there carry.',
  }),
  'fusion.visit-settled': topic({
    schema: visits.VisitSettled,
    key: (m) => m.visitId,
    description: 'Every shelf event up to a visit\'s exit is attributed or in review.',
  }),
  'review.item-opened': topic({
    schema: visits.ReviewItemOpened,
    key: (m) => m.reviewId,
    description: 'Something a person must decide, with its evidence.',
  }),
  'review.item-resolved': topic({
    schema: visits.ReviewItemResolved,
    key: (m) => m.reviewId,
    description: 'A reviewer decided an item, or the stage that opened it withdrew it once another decision answered it.',
  }),
  'review.decision-refused': topic({
    schema: visits.ReviewDecisionRefused,
    key: (m) => m.reviewId,
    description: 'A decision the stage that opened the item did not apply, and why.',
  }),
  'cart.updated': topic({
    schema: visits.CartUpdated,
    key: (m) => m.visitId,
    description: 'A visit\'s cart as it stands now.',
  }),
  'visit.receipt-finalised': topic({
    schema: visits.ReceiptFinalised,
    key: (m) => m.visitId,
    description: 'The final receipt of a visit that left.',
  }),
  'checkout.charged': topic({
    schema: checkout.CheckoutCharged,
    key: (m) => m.visitId,
    description: 'Money was taken for a visit, once.',
  }),
  'checkout.payment-failed': topic({
    schema: checkout.CheckoutPaymentFailed,
    key: (m) => m.visitId,
    description: 'A charge was declined; retried by policy.',
  }),
  'checkout.refunded': topic({
    schema: checkout.CheckoutRefunded,
    key: (m) => m.visitId,
    description: 'A receipt line was refunded, once.',
  }),
} as const;

export type TopicName = keyof typeof topics;
export type TopicMessage<T extends TopicName> = z.infer<(typeof topics)[T]['schema']>;

/** Where messages that failed validation or kept failing their handler go, with the reason. */
export const DEAD_LETTER_TOPIC = 'bus.message-dead-lettered';

/**
 * What the bus writes to DEAD_LETTER_TOPIC: the message exactly as it arrived, where it came from and
 * why no handler took it. It has no storeId on purpose: an unreadable message may not say its store.
 */
export const MessageDeadLettered = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    eventId: z
      .string()
      .min(1)
      .describe('group/topic/partition/offset: the same source message dead-lettered twice has one id.'),
    reason: z
      .enum(['invalid-message', 'handler-failed'])
      .describe('It failed its topic schema (or was not JSON), or its handler kept failing.'),
    error: z.strictObject({ code: z.string(), message: z.string() }).describe('The last error seen.'),
    sourceTopic: z.string().min(1),
    partition: z.number().int().nonnegative(),
    offset: z.string().regex(/^\d+$/).describe('Offset in the source partition (a 64-bit integer, as text).'),
    key: z.string().nullable().describe('Partition key of the source message.'),
    group: z.string().min(1).describe('The consumer group that gave up on it.'),
    attempts: z.number().int().nonnegative().describe('Handler calls made (0 when it never reached one).'),
    payload: z.string().describe('The source message value.'),
    payloadEncoding: z.enum(['utf8', 'base64']).describe('base64 when the value was not valid UTF-8.'),
    publishedAt: z.number().nullable().describe('When the source message was published, wall clock ms.'),
    deadLetteredAt: z.number().describe('When it was dead-lettered, wall clock ms.'),
  })
  .describe('A message no handler could take, kept with the reason so nothing vanishes.');

export type MessageDeadLettered = z.infer<typeof MessageDeadLettered>;

export function isTopicName(name: string): name is TopicName {
  return Object.hasOwn(topics, name);
}
