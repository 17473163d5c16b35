import type { CameraPosesDetected } from '../contracts/index.ts';
import type { Recording } from '../recording/index.ts';
import { evaluatePoses, type PoseEvalReport } from '../vision/pose.eval.ts';
import { evaluateFusion, type CameraInstant, type FusionEvalReport } from './multiview.eval.ts';

/**
 * Pose events as the camera service publishes them (or as `eval pose --save-detections` saved them)
 * scored against a recording's 2D pose truth: each camera on its own, then fused across cameras and,
 * when the frames are close enough in time, followed (see evaluateFusion).
 */
export async function scorePoseEvents(
  recording: Recording,
  saved: { model: string; byCamera: ReadonlyMap<string, readonly CameraPosesDetected[]> },
): Promise<{ poses: PoseEvalReport; fusion: FusionEvalReport | null }> {
  const instants: CameraInstant[] = [];
  const poses = await evaluatePoses(recording, {
    saved,
    framesPerCamera: Infinity,
    onScored: (cameraId, truth, detections) => void instants.push({ cameraId, ts: truth.ts, truth: truth.people, detections }),
  });
  return { poses, fusion: await evaluateFusion(recording, instants) };
}
