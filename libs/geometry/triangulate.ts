import type { Camera, Vec3 } from '../contracts/index.ts';
import { cameraCentre, distortNormalised, projectPoint, worldToCamera } from './camera.ts';
import { distortionJacobian, pixelToNormalised, type Pixel } from './lens.ts';
import { add3, distance3, dot3, scale3, solveLinear, sub3, symmetricEigen, type Matrix } from './linalg.ts';

/**
 * A 3D point from pixels in two or more calibrated cameras: a linear (DLT) estimate that needs no
 * starting guess, then Gauss-Newton on the reprojection error through the real lens model, because
 * the DLT minimises an algebraic error that weighs views by depth and ignores distortion.
 */

/** One camera's sighting of the point: the distorted pixel as the detector reported it. */
export interface Observation {
  camera: Camera;
  pixel: Pixel;
  /** How much this sighting counts against the others (e.g. the detector's score); 1 when absent. */
  weight?: number;
}

export interface Triangulation {
  /** The refined point in the store frame, metres. */
  point: Vec3;
  /** Distance in pixels between each observation and the reprojected point, in the order given. */
  reprojectionErrorsPx: number[];
  meanReprojectionErrorPx: number;
  /** The DLT point before refinement, for diagnostics. */
  linearPoint: Vec3;
  /** Gauss-Newton steps actually taken. */
  refinementSteps: number;
}

export interface TriangulateOptions {
  /** Most Gauss-Newton steps; from a DLT start, 2 to 4 reach the minimum to well under a micrometre. */
  maxRefinementSteps?: number;
}

const DEFAULT_MAX_REFINEMENT_STEPS = 10;
/** Stop refining when a step moves the point less than this, metres (far below any sensor's noise). */
const REFINEMENT_STEP_TOLERANCE_M = 1e-12;
/** Halvings of a Gauss-Newton step that would increase the error before we accept the current point. */
const REFINEMENT_MAX_HALVINGS = 20;
/**
 * A homogeneous DLT solution whose w is below this share of its length is a point at infinity: the
 * rays are parallel (or come from one centre), so there is nothing to triangulate.
 */
const AT_INFINITY_RELATIVE = 1e-12;

/**
 * Triangulates one point from two or more views. Returns null when the views cannot fix a point in
 * front of every camera: parallel rays, a single camera centre, a pixel past the lens's fold, or
 * pixels that only fit a point behind some camera (a mismatched observation; reject it upstream).
 */
export function triangulate(observations: readonly Observation[], options: TriangulateOptions = {}): Triangulation | null {
  if (observations.length < 2) throw new Error(`triangulate: need at least 2 views, got ${observations.length}`);
  const linearPoint = triangulateLinear(observations);
  if (!linearPoint || !inFrontOfAll(observations, linearPoint)) return null;
  const maxSteps = options.maxRefinementSteps ?? DEFAULT_MAX_REFINEMENT_STEPS;
  let point = linearPoint;
  let cost = reprojectionCost(observations, point);
  let refinementSteps = 0;
  while (refinementSteps < maxSteps) {
    const step = gaussNewtonStep(observations, point);
    if (!step) break;
    let factor = 1;
    let accepted: Vec3 | null = null;
    for (let h = 0; h <= REFINEMENT_MAX_HALVINGS; h++, factor /= 2) {
      const candidate = add3(point, scale3(step, factor));
      const candidateCost = inFrontOfAll(observations, candidate) ? reprojectionCost(observations, candidate) : Infinity;
      if (candidateCost <= cost) {
        accepted = candidate;
        cost = candidateCost;
        break;
      }
    }
    if (!accepted) break;
    refinementSteps++;
    const moved = distance3(accepted, point);
    point = accepted;
    if (moved < REFINEMENT_STEP_TOLERANCE_M) break;
  }
  const reprojectionErrorsPx = observations.map(({ camera, pixel }) => {
    const projected = projectPoint(camera, point)!;
    return Math.hypot(projected[0] - pixel[0], projected[1] - pixel[1]);
  });
  return {
    point,
    reprojectionErrorsPx,
    meanReprojectionErrorPx: reprojectionErrorsPx.reduce((s, e) => s + e, 0) / reprojectionErrorsPx.length,
    linearPoint,
    refinementSteps,
  };
}

/**
 * The linear DLT estimate: each view says the point's projection, in undistorted normalised
 * coordinates, is (x, y), giving two rows x P3 - P1 and y P3 - P2 of A X = 0. X is the eigenvector of
 * A^T A with the smallest eigenvalue. World coordinates are first centred on the cameras and scaled
 * to unit spread (Hartley's normalisation): store frames put points tens of metres from the origin,
 * and the squared condition number of A^T A would otherwise eat half of the float's digits.
 */
export function triangulateLinear(observations: readonly Observation[]): Vec3 | null {
  const centres = observations.map(({ camera }) => cameraCentre(camera));
  const mean = scale3(centres.reduce(add3, [0, 0, 0]), 1 / centres.length);
  const spread = Math.sqrt(centres.reduce((s, c) => s + dot3(sub3(c, mean), sub3(c, mean)), 0) / centres.length);
  if (!(spread > 0)) return null;
  const AtA: Matrix = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
  for (const { camera, pixel, weight = 1 } of observations) {
    const normalised = pixelToNormalised(camera, pixel);
    if (!normalised) return null;
    const R = camera.pose.rotation;
    const t = camera.pose.translation;
    // With X = mean + spread X', row i of [R|t] becomes [R_i, (R_i . mean + t_i) / spread] up to scale.
    const P = [0, 1, 2].map((i) => [R[i][0], R[i][1], R[i][2], (dot3(R[i], mean) + t[i]) / spread]);
    for (const [coordinate, axis] of [
      [normalised[0], 0],
      [normalised[1], 1],
    ] as const) {
      const row = P[2].map((p3, k) => coordinate * p3 - P[axis][k]);
      // Unit rows so that no view dominates the algebraic error just by its parametrisation.
      const length = Math.hypot(...row);
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) AtA[a][b] += (weight * row[a] * row[b]) / (length * length);
    }
  }
  const X = symmetricEigen(AtA).vectors[0];
  if (!(Math.abs(X[3]) > AT_INFINITY_RELATIVE * Math.hypot(...X))) return null;
  return add3(mean, scale3([X[0] / X[3], X[1] / X[3], X[2] / X[3]], spread));
}

function inFrontOfAll(observations: readonly Observation[], point: Vec3): boolean {
  return observations.every(({ camera }) => projectPoint(camera, point) !== null);
}

/** Sum of squared pixel reprojection errors: what Gauss-Newton minimises. */
function reprojectionCost(observations: readonly Observation[], point: Vec3): number {
  let cost = 0;
  for (const { camera, pixel, weight = 1 } of observations) {
    const projected = projectPoint(camera, point);
    if (!projected) return Infinity;
    cost += weight * ((projected[0] - pixel[0]) ** 2 + (projected[1] - pixel[1]) ** 2);
  }
  return cost;
}

/**
 * One Gauss-Newton step on the pixel residuals: solves (J^T J) d = -J^T r with the analytic Jacobian
 * of projectPoint (pinhole division, lens, K) with respect to the store-frame point.
 */
function gaussNewtonStep(observations: readonly Observation[], point: Vec3): Vec3 | null {
  const JtJ: Matrix = [0, 1, 2].map(() => [0, 0, 0]);
  const Jtr = [0, 0, 0];
  for (const { camera, pixel, weight = 1 } of observations) {
    const [X, Y, Z] = worldToCamera(camera, point);
    const x = X / Z;
    const y = Y / Z;
    const [xd, yd] = distortNormalised(camera, x, y);
    const { fx, fy, cx, cy } = camera.intrinsics;
    const residual = [fx * xd + cx - pixel[0], fy * yd + cy - pixel[1]];
    const [[a, b], [c, d]] = distortionJacobian(camera, x, y);
    const R = camera.pose.rotation;
    // d(x, y)/d(camera point) is [[1/Z, 0, -x/Z], [0, 1/Z, -y/Z]]; chain through R for the store frame.
    const dNormalised = [0, 1, 2].map((k) => [(R[0][k] - x * R[2][k]) / Z, (R[1][k] - y * R[2][k]) / Z]);
    const rows = [
      dNormalised.map(([dx, dy]) => fx * (a * dx + b * dy)),
      dNormalised.map(([dx, dy]) => fy * (c * dx + d * dy)),
    ];
    for (let r = 0; r < 2; r++)
      for (let i = 0; i < 3; i++) {
        Jtr[i] += weight * rows[r][i] * residual[r];
        for (let j = 0; j < 3; j++) JtJ[i][j] += weight * rows[r][i] * rows[r][j];
      }
  }
  const step = solveLinear(
    JtJ,
    Jtr.map((v) => -v),
  );
  return step && [step[0], step[1], step[2]];
}
