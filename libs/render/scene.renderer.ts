import { KP, WalkoutError, type Camera, type Store } from '../contracts/index.ts';
import { cameraCentre, projectPoint, worldToCamera } from '../geometry/camera.ts';
import { cameraBoxBounds, cameraRays, unionRect, type CameraRays, type PixelRect } from './camera.rays.ts';
import { lambert } from './lighting.ts';
import { blurRegion, DEFAULT_BLUR_WEIGHT } from './optics.blur.ts';
import { buildFigure } from './person.figure.ts';
import { HIT_NONE, Material, RoundConeCaster } from './round-cone.primitive.ts';
import type { PersonPoseTruth, RenderPerson, RenderedFrame, StockByLane } from './render.types.ts';
import { clampByte, NEAR_M, StaticLayer } from './static.layer.ts';

/**
 * Renders what one calibrated camera sees at an instant: the still store (cached, see StaticLayer)
 * with people cast over it ray by ray through the lens, and the ground truth a pose model should
 * find: every person's 17 keypoints in the distorted image with COCO visibility, and the box of
 * their visible pixels.
 */

/**
 * A keypoint is a joint inside the body, so its own flesh hides it by up to this much (metres at
 * 1.75 m height) before we call it occluded: a hip joint sits deep in the pelvis, a wrist just
 * under the skin. Anything nearer the camera by more than the margin hides it (COCO v = 1).
 */
const OCCLUSION_MARGIN_M: Record<number, number> = {
  [KP.nose]: 0.04, [KP.left_eye]: 0.04, [KP.right_eye]: 0.04, [KP.left_ear]: 0.05, [KP.right_ear]: 0.05,
  [KP.left_shoulder]: 0.09, [KP.right_shoulder]: 0.09, [KP.left_elbow]: 0.07, [KP.right_elbow]: 0.07,
  [KP.left_wrist]: 0.06, [KP.right_wrist]: 0.06, [KP.left_hip]: 0.17, [KP.right_hip]: 0.17,
  [KP.left_knee]: 0.08, [KP.right_knee]: 0.08, [KP.left_ankle]: 0.07, [KP.right_ankle]: 0.07,
};
const REFERENCE_HEIGHT_M = 1.75;
/** Belt between shirt and trousers, metres either side of the waist line. */
const BELT_HALF_M = 0.014;
/** Hair covers the head's unit sphere above this height, and behind this depth. */
const HAIRLINE_UP = 0.42;
const HAIRLINE_BACK = -0.05;
const HAIR_DOWN_TO = -0.95;
/** Hair over the temples above the ears. */
const HAIR_SIDES = 0.8;

export interface CameraRenderer {
  readonly camera: Camera;
  /**
   * One frame. The RGB buffer is new for every call (safe to hand to an encoder); `stock` changes
   * the products shown from now on.
   */
  render(people: readonly RenderPerson[], stock?: StockByLane): RenderedFrame;
}

export interface RendererOptions {
  /** Initial stock per lane; the planogram's initial stock otherwise. */
  stock?: StockByLane;
  /** Optical blur weight (optics.blur.ts); 0 gives the raw ray-cast image. */
  blur?: number;
}

export function createCameraRenderer(store: Store, cameraOrId: Camera | string, options: RendererOptions = {}): CameraRenderer {
  const camera = typeof cameraOrId === 'string' ? store.cameras.find((c) => c.id === cameraOrId) : cameraOrId;
  if (!camera) throw new WalkoutError('CONFIG_INVALID', `store ${store.id} has no camera ${String(cameraOrId)}`);
  const { width, height } = camera;
  const blur = options.blur ?? DEFAULT_BLUR_WEIGHT;
  const layer = new StaticLayer(store, camera, options.stock);
  const rays = cameraRays(camera);
  const depth = new Float32Array(width * height);
  const owner = new Uint8Array(width * height);
  const sharp = new Uint8Array(width * height * 3);
  const centre = cameraCentre(camera);
  const whole = { x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
  // The still store through the lens blur, redone only when the stock on show changes.
  const blurredStill = new Uint8Array(width * height * 3);
  const blurStill = () => (blur > 0 ? blurRegion(layer.colour, blurredStill, width, height, whole, blur) : blurredStill.set(layer.colour));
  blurStill();
  return {
    camera,
    render(people, nextStock) {
      if (people.length > 254) throw new WalkoutError('CONFIG_INVALID', 'the renderer draws at most 254 people per frame');
      if (nextStock && layer.update(nextStock) > 0) blurStill();
      sharp.set(layer.colour);
      depth.set(layer.depth);
      owner.fill(0);
      const regions = people.map((person, i) => drawPerson(camera, rays, centre, person, i + 1, sharp, depth, owner));
      const rgb = blurredStill.slice();
      for (const region of regions) {
        if (!region) continue;
        // People change pixels one beyond their own through the blur.
        const around = { x0: Math.max(0, region.x0 - 1), y0: Math.max(0, region.y0 - 1), x1: Math.min(width - 1, region.x1 + 1), y1: Math.min(height - 1, region.y1 + 1) };
        if (blur > 0) blurRegion(sharp, rgb, width, height, around, blur);
        else for (let row = around.y0; row <= around.y1; row++) rgb.set(sharp.subarray((row * width + around.x0) * 3, (row * width + around.x1 + 1) * 3), (row * width + around.x0) * 3);
      }
      const truth: PersonPoseTruth[] = [];
      people.forEach((person, i) => {
        const t = personTruth(camera, person, i + 1, regions[i], depth, owner);
        if (t) truth.push(t);
      });
      return { width, height, data: rgb, people: truth };
    },
  };
}

/** Renderers for every camera of a store, sharing nothing but the store. */
export function createStoreRenderers(store: Store, options: RendererOptions = {}): CameraRenderer[] {
  return store.cameras.map((c) => createCameraRenderer(store, c, options));
}

function drawPerson(
  camera: Camera,
  rays: CameraRays,
  centre: [number, number, number],
  person: RenderPerson,
  id: number,
  rgb: Uint8Array,
  depth: Float32Array,
  owner: Uint8Array,
): PixelRect | null {
  if (person.keypoints.length !== 17)
    throw new WalkoutError('CONFIG_INVALID', `person ${person.personId}: expected 17 keypoints, got ${person.keypoints.length}`);
  const R = camera.pose.rotation;
  const { width } = camera;
  const normal = new Float64Array(3);
  let region: PixelRect | null = null;
  const heightScale = person.appearance.heightM / REFERENCE_HEIGHT_M;
  for (const spec of buildFigure(person)) {
    const c = worldToCamera(camera, spec.boundsCentre);
    const r = spec.boundsRadius;
    const bounds = cameraBoxBounds(camera, [c[0] - r, c[1] - r, c[2] - r], [c[0] + r, c[1] + r, c[2] + r], NEAR_M);
    if (!bounds) continue;
    region = unionRect(region, bounds);
    const caster = new RoundConeCaster(spec);
    caster.prepare(R, centre);
    const [cr, cg, cb] = spec.colour;
    const [hr, hg, hb] = spec.colour2;
    const material = spec.material;
    const split = spec.split;
    const belt = BELT_HALF_M * heightScale;
    for (let row = bounds.y0; row <= bounds.y1; row++) {
      for (let col = bounds.x0; col <= bounds.x1; col++) {
        const i = row * width + col;
        const t = caster.cast(rays.x[i], rays.y[i], NEAR_M, depth[i]);
        if (t === Infinity || caster.hitPart === HIT_NONE) continue;
        caster.normal(normal);
        const shade = lambert(normal[0], normal[1], normal[2]);
        let r = cr;
        let g = cg;
        let b = cb;
        if (material === Material.Torso) {
          const z = caster.hz;
          if (z < split - belt) {
            r = hr;
            g = hg;
            b = hb;
          } else if (z < split + belt) {
            r = hr * 0.45;
            g = hg * 0.45;
            b = hb * 0.45;
          }
        } else if (material === Material.Head) {
          const front = caster.hy;
          const up = caster.hz;
          const side = caster.hx < 0 ? -caster.hx : caster.hx;
          if (up > HAIRLINE_UP - 0.25 * front || (front < HAIRLINE_BACK && up > HAIR_DOWN_TO) || (side > HAIR_SIDES && up > 0 && front < 0.35)) {
            r = hr;
            g = hg;
            b = hb;
          }
        }
        depth[i] = t;
        owner[i] = id;
        rgb[i * 3] = clampByte(r * shade);
        rgb[i * 3 + 1] = clampByte(g * shade);
        rgb[i * 3 + 2] = clampByte(b * shade);
      }
    }
  }
  return region;
}

function personTruth(
  camera: Camera,
  person: RenderPerson,
  id: number,
  region: PixelRect | null,
  depth: Float32Array,
  owner: Uint8Array,
): PersonPoseTruth | null {
  if (!region) return null;
  const { width, height } = camera;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let row = region.y0; row <= region.y1; row++)
    for (let col = region.x0; col <= region.x1; col++)
      if (owner[row * width + col] === id) {
        if (col < x0) x0 = col;
        if (col > x1) x1 = col;
        if (row < y0) y0 = row;
        if (row > y1) y1 = row;
      }
  if (x1 < x0) return null;
  const heightScale = person.appearance.heightM / REFERENCE_HEIGHT_M;
  const keypoints = person.keypoints.map((p, k): [number, number, 0 | 1 | 2] => {
    const zc = worldToCamera(camera, p)[2];
    const px = projectPoint(camera, p);
    if (!px || zc <= NEAR_M) return [0, 0, 0];
    const col = Math.round(px[0]);
    const row = Math.round(px[1]);
    if (col < 0 || row < 0 || col >= width || row >= height) return [px[0], px[1], 0];
    const hidden = depth[row * width + col] < zc - OCCLUSION_MARGIN_M[k] * heightScale;
    return [px[0], px[1], hidden ? 1 : 2];
  });
  // Pixel centres are at integer coordinates, so a pixel covers +-0.5 around them.
  return { personId: person.personId, keypoints, box: [x0 - 0.5, y0 - 0.5, x1 - x0 + 1, y1 - y0 + 1] };
}
