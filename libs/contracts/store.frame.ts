import type { Box3, Vec3 } from './common.schema.ts';
import type { Camera } from './store.schema.ts';

/**
 * The few store-frame calculations the store checks need (is a corner on the floor, where does a
 * camera hang), kept here because contracts is the bottom layer: libs/geometry and libs/sim build on
 * contracts, so they import these from here (geometry re-exports them) rather than contracts
 * importing geometry. One implementation for the checks and for the pipeline.
 */

type FloorPoint = readonly [number, number];

/** Whether a floor point lies inside a polygon (even-odd rule; a zone, the floor outline). */
export function insidePolygon(point: FloorPoint, polygon: ReadonlyArray<FloorPoint>): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > point[1] !== yj > point[1] && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from a floor point to the nearest edge of a polygon, metres, whether the point is inside or out. */
export function distanceToPolygonEdge(point: FloorPoint, polygon: ReadonlyArray<FloorPoint>): number {
  let nearest = Infinity;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [ax, ay] = polygon[j];
    const [bx, by] = polygon[i];
    const edgeX = bx - ax;
    const edgeY = by - ay;
    // How far along the edge the point's foot falls, clamped to the edge; a zero-length edge is its corner.
    const along = Math.max(0, Math.min(1, ((point[0] - ax) * edgeX + (point[1] - ay) * edgeY) / (edgeX * edgeX + edgeY * edgeY || 1)));
    nearest = Math.min(nearest, Math.hypot(point[0] - ax - along * edgeX, point[1] - ay - along * edgeY));
  }
  return nearest;
}

/** Camera centre in the store frame: C = -R^T t (OpenCV extrinsics map the world into the camera). */
export function cameraCentre(camera: Pick<Camera, 'pose'>): Vec3 {
  const R = camera.pose.rotation;
  const t = camera.pose.translation;
  return [
    -(R[0][0] * t[0] + R[1][0] * t[1] + R[2][0] * t[2]),
    -(R[0][1] * t[0] + R[1][1] * t[1] + R[2][1] * t[2]),
    -(R[0][2] * t[0] + R[1][2] * t[1] + R[2][2] * t[2]),
  ];
}

/** Distance from a point to an axis-aligned box in the store frame (0 inside), metres. */
export function distanceToBox(point: Vec3, box: Box3): number {
  let sum = 0;
  for (let axis = 0; axis < 3; axis++) {
    const out = Math.max(box.min[axis] - point[axis], point[axis] - box.max[axis], 0);
    sum += out * out;
  }
  return Math.sqrt(sum);
}
