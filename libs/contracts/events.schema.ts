import { z } from 'zod';
import { Id, RelativePath, SCHEMA_VERSION, StoreClockMs, Vec3 } from './common.schema.ts';

/**
 * Every message on the bus. Each payload carries the schema version, the store, a store-clock
 * timestamp and its own event id (consumers dedupe on it). Frames are referenced, never copied.
 */

const eventBase = {
  schemaVersion: z.literal(SCHEMA_VERSION).describe('Version of the event schema.'),
  eventId: z.string().min(1).max(128).describe('Unique id of this event; consumers dedupe on it.'),
  storeId: Id.describe('The store the event happened in.'),
  ts: StoreClockMs.describe('When it happened, store clock, ms.'),
};

export const Keypoint2D = z
  .tuple([z.number(), z.number(), z.number().min(0).max(1)])
  .describe('[x, y, score]: pixel position and confidence of one COCO keypoint.');

export const GateQrScanned = z
  .strictObject({
    ...eventBase,
    gateId: Id,
    visitId: Id.describe('The visit this scan opens; charges are keyed by it.'),
    accountId: Id.describe('The shopper account whose app showed the QR code.'),
    partySize: z.number().int().min(1).max(20).describe('People entering on this scan (a group has one payer).'),
    codeEventId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('The gate.code-presented this scan verified; absent in recordings, which carry scans already verified.'),
  })
  .describe('A shopper scanned the app QR code at an entry gate, and the code was verified: a visit begins.');

/** Why the gate would not take an entry code (docs/stages/gate.md#refusals). */
export const EntryRefusalReason = z
  .enum(['malformed', 'forged', 'expired', 'wrong-store', 'used', 'account-blocked', 'unpaid-visit'])
  .describe(
    'malformed: not an entry code at all; forged: the signature does not hold, or its key is unknown or retired; expired: outside its validity on the store clock; wrong-store: issued for another store; used: already let someone in; account-blocked: the account may not shop; unpaid-visit: the account has a visit still to settle.',
  );

export const GateCodePresented = z
  .strictObject({
    ...eventBase,
    eventId: z.string().min(1).max(96).describe('Unique id of this reading of a code (the gate\'s own); what the gate service publishes for it is named after it.'),
    gateId: Id,
    code: z.string().max(2048).describe('The text the gate read off the QR code, as read: the gate service judges it.'),
    partySize: z.number().int().min(1).max(20).default(1).describe('People entering on this code, as told to the gate (a group has one payer).'),
  })
  .describe('The entry gate read a code off a phone; `ts` is when, on the store clock, and the code\'s validity is judged at that time.');

export const GateEntryRefused = z
  .strictObject({
    ...eventBase,
    gateId: Id,
    codeEventId: z.string().min(1).max(96).describe('The gate.code-presented refused.'),
    reason: EntryRefusalReason,
    detail: z.string().describe('What exactly was wrong, for the operator (never shown to the shopper as is).'),
    accountId: Id.optional().describe('The account the code names, only when its signature holds (a forged code names nobody).'),
  })
  .describe('The gate refused an entry code and stays closed: nobody is admitted on it.');

export const GateOpened = z
  .strictObject({
    ...eventBase,
    gateId: Id,
    kind: z.enum(['entry', 'exit', 'staff']),
    visitId: Id.optional().describe('The visit passing, when the gate knows it.'),
  })
  .describe('A gate opened to let someone through.');

export const FrameRef = z
  .strictObject({
    recording: z.string().min(1).describe('Recording folder or live stream name.'),
    file: RelativePath.describe('Video file within the recording.'),
    index: z.number().int().nonnegative().describe('Frame index within that file.'),
  })
  .describe('Where a frame can be read from; pixels never travel on the bus.');

export const CameraFrameCaptured = z
  .strictObject({
    ...eventBase,
    cameraId: Id,
    frameIndex: z.number().int().nonnegative(),
    frame: FrameRef,
  })
  .describe('A camera produced a frame.');

export const DetectedPose = z.strictObject({
  score: z.number().min(0).max(1),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]).describe('[x, y, width, height] in pixels.'),
  keypoints: z.array(Keypoint2D).length(17).describe('The 17 COCO keypoints.'),
});

export const CameraPosesDetected = z
  .strictObject({
    ...eventBase,
    cameraId: Id,
    frameIndex: z.number().int().nonnegative(),
    model: z.string().min(1).describe('Which pose model produced these.'),
    poses: z.array(DetectedPose),
    passedOver: z
      .literal(true)
      .optional()
      .describe(
        'The frame was not read (a shelf camera read on demand while the shelves it looks at were at rest): poses is empty, which says nothing ' +
          'about who was there. Consumers take it only as the camera having passed this instant (the tracker\'s watermark).',
      ),
  })
  .describe('People found in one frame, or a frame passed over.');

export const LoadCellSample = z.tuple([StoreClockMs, z.number()]).describe('[store-clock ms, grams].');

export const ShelfSamplesRecorded = z
  .strictObject({
    ...eventBase,
    shelfId: Id,
    loadCellId: Id,
    samples: z.array(LoadCellSample).min(1).describe('Consecutive samples, oldest first.'),
  })
  .describe('A batch of raw load-cell samples from one cell.');

export const ProductHypothesis = z.strictObject({
  productId: Id,
  quantity: z.number().int().positive(),
  probability: z.number().min(0).max(1),
});

export const SensorHealth = z.enum(['ok', 'noisy', 'stuck', 'dead', 'saturated']);

export const ExplainedItem = z.strictObject({
  kind: z.enum(['pick', 'put']),
  laneId: Id,
  productId: Id,
  quantity: z.number().int().positive(),
  deltaGrams: z.number().describe('What the item weighs on its lane, signed as the change (negative for a pick).'),
});

export const JointExplanation = z
  .strictObject({
    probability: z.number().min(0).max(1),
    items: z.array(ExplainedItem).min(1),
  })
  .describe('One whole explanation of a change of several items at once: every item it moved.');

export const ShelfEventDetected = z
  .strictObject({
    ...eventBase,
    shelfEventId: z.string().min(1),
    shelfId: Id,
    plateIds: z.array(Id).min(1),
    laneIds: z.array(Id),
    kind: z.enum(['pick', 'put']).describe('Weight went down (pick) or up (put back).'),
    startMs: StoreClockMs,
    endMs: StoreClockMs,
    deltaGrams: z.number().describe('Net weight change, grams (negative for a pick).'),
    sigmaGrams: z
      .number()
      .nonnegative()
      .describe(
        "One standard deviation of the weight change as measured (the plates' noise), grams. A product's own unit-to-unit spread is not in it: whoever weighs a reading adds that product's. Only an item that shared its plates with another item of the same change, whose weight the shelf split between them by its reading, includes its product's spread.",
      ),
    hypotheses: z
      .array(ProductHypothesis)
      .describe(
        'What moved, most likely first: every product and quantity whose weight fits the change within its uncertainty. ' +
          'Empty for an unexplained change (one that no product fits): then laneIds lists every lane on the plates that changed and confidence is 0.',
      ),
    confidence: z.number().min(0).max(1).describe('How sure the event is of its lead hypothesis; 0 for an unexplained change.'),
    plateDeltaGrams: z
      .array(z.number())
      .optional()
      .describe(
        "An unexplained change's net weight change on each of its plates, grams, in plateIds' order (their sum is deltaGrams, to rounding): " +
          'where on the shelf the weight went, for a reading of it with later changes (absent on older events, and on explained ones, whose plates items may share).',
      ),
    transitionMs: z
      .tuple([StoreClockMs, StoreClockMs])
      .optional()
      .describe(
        'When the weight of its plates went from a quarter to three quarters of their net change, store clock ms: one hand lifting or setting down ' +
          'several units at once is one quick step; two hands make two steps as far apart as their lifts (absent when the change was too small to time, ' +
          'on an item of a change of several items, whose plates another item moved too, and on older events).',
      ),
    health: SensorHealth.describe('Worst health of the sensors involved.'),
    explanations: z
      .array(JointExplanation)
      .optional()
      .describe(
        'When the change moved several items at once (this event is one of them): its whole explanations, the one published first, ' +
          'then the likeliest others. The shelf cannot know what the shoppers there carry; fusion may choose another by it.',
      ),
  })
  .describe('Weight on a shelf changed: something was picked up or put down.');

export const ChangeReexplained = z
  .strictObject({
    ...eventBase,
    shelfId: Id,
    replaces: z.array(z.string().min(1)).min(1).describe('The shelf events of the change, as the shelf explained it.'),
    events: z
      .array(ShelfEventDetected)
      .min(1)
      .describe('The change as fusion reads it: one event an item, each settled (attributed or reviewed) under its own id.'),
    probability: z.number().min(0).max(1).describe("This explanation's share once weighed by what the shoppers there carry; 1 for a reviewer's decision."),
    review: z
      .string()
      .min(1)
      .max(160)
      .optional()
      .describe(
        "Set when a reviewer's decision on this review item, not fusion, read the change: what it moved goes into the shelf's stock from `ts` (the decision's time) on, " +
          'and the review item keeps naming the shelf event it replaces. The events are no attributions: the decision went to the carts itself.',
      ),
    attributed: z
      .string()
      .min(1)
      .max(160)
      .optional()
      .describe(
        "Set when fusion itself decided the one event it replaces otherwise than the shelf's likeliest hypothesis (by what the shoppers there carry): the attribution's event id. " +
          'What the decision moved goes into the shelf\'s stock in place of what the shelf moved, so later changes there are explained with it; the event stays settled under its own id, ' +
          'and the events are no attributions.',
      ),
  })
  .describe(
    'Fusion read a change otherwise than the shelf did: a change of several items at once, by what the shoppers there carry; with `review`, a change a reviewer decided, as the decision says; ' +
      'with `attributed`, one event fusion decided as another product or quantity than the shelf read.',
  );

/** A stock move an event made (or a re-reading made instead), remembered for fusion's re-readings. */
export const RememberedStockMove = z.strictObject({
  shelfEventId: z.string().min(1).max(128).describe('The event that made the move.'),
  kind: z.enum(['pick', 'put']),
  laneId: Id.describe('Where the unit was taken from (a twin lane, for a misplaced item) or put.'),
  productId: Id,
  quantity: z.number().int().positive(),
  atMs: StoreClockMs.describe('When the change ended (the event\'s endMs).'),
});

export const ShelfStockSnapshot = z
  .strictObject({
    ...eventBase,
    ts: StoreClockMs.describe('The same as resumeFromMs.'),
    shelfId: Id,
    resumeFromMs: StoreClockMs.describe(
      'The shelf\'s samples restart point this stock belongs to: it holds every change the shelf made from its samples before this time and none ' +
        'from samples at or after it. A shelf service that restores it passes the shelf\'s samples before it over.',
    ),
    lanes: z
      .array(
        z.strictObject({
          laneId: Id,
          productId: Id.optional().describe('The lane\'s own product in the planogram the stock was kept under: a restore refuses a lane whose product changed since.'),
          stock: z.number().int().nonnegative().describe('Units of the lane\'s own product on it.'),
          misplaced: z
            .array(z.strictObject({ productId: Id, quantity: z.number().int().positive() }))
            .describe('Other products put back on the lane, with how many.'),
          restockedAtMs: StoreClockMs.optional().describe('When units the shelf had not given out last arrived on the lane (staff restocking).'),
        }),
      )
      .describe('Every lane of the shelf, once.'),
    givenOut: z
      .array(z.strictObject({ productId: Id, count: z.number().int().positive(), lastMs: StoreClockMs }))
      .describe('Units of each product the shelf gave out and has not had back, and when one was last taken.'),
    moves: z
      .array(RememberedStockMove)
      .describe('The stock move of each recent event (REREAD_KEEP_MS), oldest first: what a re-reading of fusion\'s takes back.'),
    unmoved: z
      .array(z.strictObject({ shelfEventId: z.string().min(1).max(128), atMs: StoreClockMs }))
      .optional()
      .describe(
        'Recent events of changes no product explained, which moved no stock, oldest first: a reviewer\'s decision on one moves what was decided. Absent: none (snapshots from before this field).',
      ),
    replaced: z
      .array(z.strictObject({ shelfEventId: z.string().min(1).max(128), atMs: StoreClockMs }))
      .describe('Recent events whose moves a re-reading took back: the same re-reading again, or the event detected again, changes nothing.'),
  })
  .describe(
    'What one shelf holds at a restart point of its samples, as its events and fusion\'s re-readings left it (services/shelf): the next owner of ' +
      'the shelf starts from it instead of the planogram. Published when the stock changed; the topic keeps the newest per shelf.',
  );

export const ShelfActivityReported = z
  .strictObject({
    ...eventBase,
    shelfId: Id,
    state: z
      .enum(['active', 'at-rest', 'silent'])
      .describe(
        'active: a segment is open on the shelf (weight moving, or the readings after a change being averaged); at-rest: none is; ' +
          'silent: the shelf\'s samples stopped, so no activity can be reported until they come again.',
      ),
    since: StoreClockMs.describe('When the shelf entered this state, store clock, ms (at or before ts).'),
  })
  .describe(
    'How a shelf\'s load cells stand, judged up to ts: sent when the state changes and every ACTIVITY_REPORT_MS of store time between, so a reader knows how far the shelf has been judged (services/shelf).',
  );

export const DeviceHealthReported = z
  .strictObject({
    ...eventBase,
    deviceId: Id,
    deviceKind: z.enum(['camera', 'load-cell', 'gate']),
    health: z.enum(['ok', 'noisy', 'stuck', 'dead', 'saturated', 'offline']),
    detail: z.string().describe('What was seen, for the operator.'),
  })
  .describe('A device changed health.');

export const TrackedPerson = z
  .strictObject({
    trackId: Id.describe('The same at every instant the tracker follows this person.'),
    keypoints: z
      .array(Vec3.nullable())
      .length(17)
      .describe('The 17 COCO keypoints in the store frame, metres; null where fewer than two cameras agree.'),
    cameras: z.array(Id).describe('Cameras whose detections are this person at this instant.'),
  })
  .describe('One person at one instant, in 3D.');

export const PeopleTracked = z
  .strictObject({
    ...eventBase,
    people: z.array(TrackedPerson),
  })
  .describe('Everyone the cameras see at one instant, fused across cameras and followed over time.');

export const PersonTruth = z.strictObject({
  personId: Id,
  keypoints3d: z.array(Vec3).length(17),
});

export type GateQrScanned = z.infer<typeof GateQrScanned>;
export type EntryRefusalReason = z.infer<typeof EntryRefusalReason>;
export type GateCodePresented = z.infer<typeof GateCodePresented>;
export type GateEntryRefused = z.infer<typeof GateEntryRefused>;
export type GateOpened = z.infer<typeof GateOpened>;
export type CameraFrameCaptured = z.infer<typeof CameraFrameCaptured>;
export type CameraPosesDetected = z.infer<typeof CameraPosesDetected>;
export type ShelfSamplesRecorded = z.infer<typeof ShelfSamplesRecorded>;
export type ShelfEventDetected = z.infer<typeof ShelfEventDetected>;
export type DeviceHealthReported = z.infer<typeof DeviceHealthReported>;
export type ChangeReexplained = z.infer<typeof ChangeReexplained>;

export type ShelfActivityReported = z.infer<typeof ShelfActivityReported>;
export type RememberedStockMove = z.infer<typeof RememberedStockMove>;
export type ShelfStockSnapshot = z.infer<typeof ShelfStockSnapshot>;
/** The stock part of a snapshot: what a shelf detector holds and remembers (libs/shelf). */
export type ShelfStock = Pick<ShelfStockSnapshot, 'lanes' | 'givenOut' | 'moves' | 'unmoved' | 'replaced'>;
export type TrackedPerson = z.infer<typeof TrackedPerson>;
export type PeopleTracked = z.infer<typeof PeopleTracked>;
export type ProductHypothesis = z.infer<typeof ProductHypothesis>;
export type JointExplanation = z.infer<typeof JointExplanation>;
