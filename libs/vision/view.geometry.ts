import type { Camera } from '../contracts/index.ts';
import { pixelToFloor, projectPoint } from '../geometry/index.ts';
import type { ViewGeometry } from './pose.detector.ts';

/**
 * Which way people stand in a calibrated camera's image. A person's box centre is about their
 * middle, a metre above the floor: the pixel's ray meets that height at the place they stand, and a
 * short step straight up from there, projected through the lens, is their up in the image. Exact
 * for the lens (distortion bends the vertical differently across the image), and cheap: one ray
 * and two projections.
 */

/** Height of a standing adult's middle above the floor, metres. */
const PERSON_MIDDLE_M = 1.0;
/** The step up whose image gives the direction, metres. */
const UP_STEP_M = 0.3;

export function cameraViewGeometry(camera: Camera): ViewGeometry {
  return {
    upAt(x, y) {
      const middle = pixelToFloor(camera, [x, y], PERSON_MIDDLE_M);
      if (!middle) return null;
      const from = projectPoint(camera, middle);
      const to = projectPoint(camera, [middle[0], middle[1], middle[2] + UP_STEP_M]);
      if (!from || !to) return null;
      const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
      return length > 1e-6 ? [(to[0] - from[0]) / length, (to[1] - from[1]) / length] : null;
    },
  };
}
