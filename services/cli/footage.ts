import type { Store } from '../../libs/contracts/index.ts';
import { renderedFootage } from '../../libs/render/camera.footage.ts';
import type { CameraFootageWriter } from '../../libs/sim/recording.sim.ts';

/** Camera footage for the simulator: the renderer draws each frame, ffmpeg encodes it. */
export function cameraFootage(store: Store): CameraFootageWriter {
  return renderedFootage(store);
}
