import type { CameraFootageWriter } from '../../libs/sim/recording.sim.ts';

/** Camera footage for the simulator: the renderer draws each frame, ffmpeg encodes it. */
export async function cameraFootage(): Promise<CameraFootageWriter | undefined> {
  return undefined; // wired once libs/render and libs/video land
}
