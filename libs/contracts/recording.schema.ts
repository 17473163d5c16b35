import { z } from 'zod';
import { Id, RelativePath, StoreClockMs, Vec3 } from './common.schema.ts';
import { GateOpened, GateQrScanned } from './events.schema.ts';

/**
 * The recording format: a folder anyone can write from their own store and replay through walkout.
 * Paths in the manifest are relative to the folder. Every line-oriented file is read as a stream.
 */

export const RECORDING_FORMAT = 'walkout-recording' as const;
export const RECORDING_VERSION = 1 as const;

export const CameraStream = z.strictObject({
  cameraId: Id,
  video: RelativePath.describe('H.264 video in an mp4 container, one file per camera.'),
  frames: RelativePath.describe('CSV `frame_index,ts_ms`: the store-clock time of every frame in the video.'),
  fps: z.number().positive(),
  frameCount: z.number().int().nonnegative(),
});

export const LoadCellStream = z.strictObject({
  shelfId: Id,
  file: RelativePath.describe(
    'CSV (optionally .csv.gz) with header `ts_ms,<loadCellId>,...`: one row per sample tick, grams per cell.',
  ),
  loadCellIds: z.array(Id).min(1),
  sampleRateHz: z.number().positive(),
});

export const RecordingManifest = z
  .strictObject({
    format: z.literal(RECORDING_FORMAT),
    version: z.literal(RECORDING_VERSION).describe('Format version; readers refuse versions they do not know.'),
    storeId: Id,
    store: RelativePath.describe('The store description (same schema as fixtures/stores/*.json).'),
    startMs: StoreClockMs.describe('First instant covered, store clock.'),
    endMs: StoreClockMs.describe('Last instant covered, store clock.'),
    source: z
      .strictObject({
        kind: z.enum(['simulator', 'import', 'live']),
        detail: z.string().describe('Scenario and seed, importer and source folder, or site name.'),
      })
      .describe('Where the recording came from.'),
    streams: z.strictObject({
      cameras: z.array(CameraStream),
      loadCells: z.array(LoadCellStream),
      gates: RelativePath.optional().describe('JSON lines of gate events: `{"topic": ..., "message": ...}`.'),
    }),
    truth: z
      .strictObject({
        skeletons: RelativePath.optional().describe('JSON lines of SkeletonTruth: every person in 3D at each tick.'),
        poses: z
          .record(Id, RelativePath)
          .optional()
          .describe('Per camera id: JSON lines of FramePoseTruth, every person in 2D per frame.'),
        visits: RelativePath.optional().describe('JSON lines of VisitTruth.'),
        actions: RelativePath.optional().describe('JSON lines of ActionTruth: every pick and put.'),
        receipts: RelativePath.optional().describe('JSON lines of ReceiptTruth: what each visit should pay.'),
      })
      .describe('Ground truth, when known.'),
  })
  .refine((m) => m.endMs >= m.startMs, { message: 'endMs is before startMs', path: ['endMs'] })
  .describe('manifest.json of a recording.');

export const GateLine = z.discriminatedUnion('topic', [
  z.strictObject({ topic: z.literal('gate.qr-scanned'), message: GateQrScanned }),
  z.strictObject({ topic: z.literal('gate.opened'), message: GateOpened }),
]);

export const PersonRole = z.enum(['shopper', 'companion', 'staff', 'tailgater']);

export const SkeletonTruth = z.strictObject({
  ts: StoreClockMs,
  people: z.array(
    z.strictObject({
      personId: Id,
      visitId: Id.optional().describe('The visit (payer) this person belongs to; a tailgater has an anonymous visit of their own; absent for staff.'),
      role: PersonRole,
      keypoints: z.array(Vec3).length(17).describe('COCO keypoints in the store frame, metres.'),
    }),
  ),
});

export const FramePoseTruth = z.strictObject({
  frameIndex: z.number().int().nonnegative(),
  ts: StoreClockMs,
  people: z.array(
    z.strictObject({
      personId: Id,
      keypoints: z
        .array(z.tuple([z.number(), z.number(), z.union([z.literal(0), z.literal(1), z.literal(2)])]))
        .length(17)
        .describe('[x, y, v] per COCO keypoint, pixels; v as in COCO: 0 outside the image, 1 hidden, 2 visible.'),
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]).describe('[x, y, width, height] of the visible person.'),
    }),
  ),
});

export const VisitTruth = z.strictObject({
  visitId: Id,
  kind: z
    .enum(['shopper', 'anonymous'])
    .default('shopper')
    .describe('shopper: opened by a QR scan; anonymous: someone who came in without a scan (tailgating). Staff have no visit.'),
  accountId: Id.optional().describe('The paying account; absent for anonymous visits.'),
  personIds: z.array(Id).min(1).describe('Everyone in the party; the first is the payer.'),
  entryMs: StoreClockMs,
  exitMs: StoreClockMs,
  tags: z
    .array(z.string().min(1))
    .default([])
    .describe('The hard cases the party took part in (the scenario tags of its people, sorted), for scores by case.'),
});

export const ActionTruth = z.strictObject({
  actionId: z.string().min(1),
  kind: z
    .enum(['pick', 'put', 'hand-off', 'drop'])
    .describe(
      'pick and put: on a lane; hand-off: from one shopper to another; drop: an item fell to the floor and its holder picked it up again (no shelf saw it, and it stays on the receipt of the visit that took it off the shelf).',
    ),
  startMs: StoreClockMs,
  endMs: StoreClockMs,
  personId: Id.optional().describe('Who did it, when known.'),
  visitId: Id.optional().describe('Whose cart it changes (for a put of an item someone handed over, the giver\'s); absent for staff restocking.'),
  toPersonId: Id.optional().describe('For a hand-off: who received the item.'),
  toVisitId: Id.optional(),
  productId: Id,
  quantity: z.number().int().positive(),
  shelfId: Id.optional(),
  laneId: Id.optional(),
  plateIds: z.array(Id).optional(),
});

export const ReceiptTruth = z.strictObject({
  visitId: Id,
  accountId: Id.optional().describe('Absent for an anonymous visit.'),
  lines: z.array(z.strictObject({ productId: Id, quantity: z.number().int().positive(), unitPriceCents: z.number().int() })),
  totalCents: z.number().int().nonnegative(),
});

export type RecordingManifest = z.infer<typeof RecordingManifest>;
export type GateLine = z.infer<typeof GateLine>;
export type SkeletonTruth = z.infer<typeof SkeletonTruth>;
export type FramePoseTruth = z.infer<typeof FramePoseTruth>;
export type VisitTruth = z.infer<typeof VisitTruth>;
export type ActionTruth = z.infer<typeof ActionTruth>;
export type ReceiptTruth = z.infer<typeof ReceiptTruth>;

/** COCO keypoint order, used by every pose in the project. */
export const COCO_KEYPOINTS = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
] as const;
export type CocoKeypoint = (typeof COCO_KEYPOINTS)[number];
export const KP = Object.fromEntries(COCO_KEYPOINTS.map((n, i) => [n, i])) as Record<CocoKeypoint, number>;
