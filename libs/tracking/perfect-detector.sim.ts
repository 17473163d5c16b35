import { SCHEMA_VERSION, type CameraPosesDetected } from '../contracts/index.ts';
import type { Recording } from '../recording/index.ts';
import { keypointBox } from '../vision/pose.detector.ts';

/** Score a perfect detector gives each person and each keypoint it sees. */
const PERSON_SCORE = 0.8;
const KEYPOINT_SCORE = 0.9;

/**
 * What a perfect pose detector would publish for the first `frames` frames (every `every`-th) of
 * every camera of a recording, read from its 2D pose truth, in time order: the tracker's input
 * without the camera stage, for tests of what comes after it.
 */
export async function perfectPoseEvents(recording: Recording, frames: number, every: number): Promise<CameraPosesDetected[]> {
  const events: CameraPosesDetected[] = [];
  for (const stream of recording.manifest.streams.cameras)
    for await (const line of recording.truthPoses(stream.cameraId)) {
      if (line.frameIndex >= frames) break;
      if (line.frameIndex % every) continue;
      // People with no keypoint in the image are nobody a detector could report.
      const poses = line.people
        .map((p) => p.keypoints.map(([x, y, v]): [number, number, number] => [x, y, v > 0 ? KEYPOINT_SCORE : 0]))
        .filter((keypoints) => keypoints.some((k) => k[2] > 0))
        .map((keypoints) => ({ score: PERSON_SCORE, box: keypointBox(keypoints.filter((k) => k[2] > 0)), keypoints }));
      events.push({
        schemaVersion: SCHEMA_VERSION,
        eventId: `p-${stream.cameraId}-${line.frameIndex}`,
        storeId: recording.manifest.storeId,
        ts: line.ts,
        cameraId: stream.cameraId,
        frameIndex: line.frameIndex,
        model: 'truth',
        poses,
      });
    }
  return events.sort((a, b) => a.ts - b.ts || a.cameraId.localeCompare(b.cameraId));
}
