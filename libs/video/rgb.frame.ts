/**
 * One decoded or rendered video frame: packed 8-bit RGB, row-major, top row first, no padding
 * (data.length === width * height * 3). The one pixel format the renderer, the video reader and
 * writer and the pose models agree on.
 */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export const RGB_BYTES_PER_PIXEL = 3;

export function rgbFrameBytes(width: number, height: number): number {
  return width * height * RGB_BYTES_PER_PIXEL;
}
