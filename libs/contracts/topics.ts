import type { z } from 'zod';
import * as events from './events.schema.ts';

/**
 * The topic map: every arrow of the data flow. Names are `domain.past-tense-event`; the partition key
 * keeps per-camera, per-shelf and per-visit order, which is what lets the bus spread work.
 */
interface TopicSpec<S extends z.ZodType> {
  schema: S;
  key: (message: z.infer<S>) => string;
  description: string;
}

const topic = <S extends z.ZodType>(spec: TopicSpec<S>) => spec;

export const topics = {
  'gate.qr-scanned': topic({
    schema: events.GateQrScanned,
    key: (m) => m.visitId,
    description: 'A shopper scanned the app QR code at an entry gate.',
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
  'device.health-reported': topic({
    schema: events.DeviceHealthReported,
    key: (m) => m.deviceId,
    description: 'A device changed health.',
  }),
} as const;

export type TopicName = keyof typeof topics;
export type TopicMessage<T extends TopicName> = z.infer<(typeof topics)[T]['schema']>;

/** Where messages that failed validation or kept failing their handler go, with the reason. */
export const DEAD_LETTER_TOPIC = 'bus.message-dead-lettered';

export function isTopicName(name: string): name is TopicName {
  return Object.hasOwn(topics, name);
}
