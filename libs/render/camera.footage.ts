import type { Camera, Store } from '../contracts/index.ts';
import { Mp4Writer, type Mp4WriterOptions } from '../video/mp4.writer.ts';
import { createCameraRenderer } from './scene.renderer.ts';
import type { PersonPoseTruth, RenderPerson, StockByLane } from './render.types.ts';

/**
 * A camera's footage: each frame rendered, streamed to its H.264 file, and its pose truth returned.
 * Rendering runs here while ffmpeg encodes the previous frames in its own process, so the two use
 * two cores. The shape matches the simulator's CameraFootageWriter (libs/sim/recording.sim.ts).
 */
export interface CameraFootage {
  frame(people: readonly RenderPerson[], stock?: StockByLane): Promise<PersonPoseTruth[]>;
  close(): Promise<void>;
}

export function renderedFootage(store: Store, encoding: Pick<Mp4WriterOptions, 'crf' | 'preset'> = {}) {
  return {
    async open(camera: Camera, videoPath: string): Promise<CameraFootage> {
      const renderer = createCameraRenderer(store, camera);
      const writer = await Mp4Writer.open(videoPath, { width: camera.width, height: camera.height, fps: camera.fps, ...encoding });
      return {
        async frame(people, stock) {
          const frame = renderer.render(people, stock);
          await writer.write(frame.data);
          return frame.people;
        },
        async close() {
          await writer.close();
        },
      };
    },
  };
}
