import type { Camera, Gondola, Lane, Store } from '../contracts/index.ts';
import { cameraCentre } from '../geometry/camera.ts';
import { cameraRays, intersectRect, unionRect, worldBoxBounds, type CameraRays, type PixelRect } from './camera.rays.ts';
import { parseHexColour } from './colour.ts';
import { lambert } from './lighting.ts';
import { Finish, gondolaBoxes, initialStock, laneItemBoxes, type SceneBox } from './store.scene.ts';
import type { StockByLane } from './render.types.ts';

/**
 * The still part of one camera's view (floor, walls, gondolas, products) with its depth, rendered
 * once and copied under every frame. When stock changes only the changed lanes' part of the image
 * is cast again, so a pick costs a few thousand rays, not a whole frame.
 */

/** Nothing nearer the lens than this is drawn, metres. */
export const NEAR_M = 0.05;
const TILE_M = 0.5;
const GROUT_M = 0.012;
const FLOOR_COLOUR = parseHexColour('#b9b2a4');
const FLOOR_ALT_COLOUR = parseHexColour('#aca594');
const GROUT_COLOUR = parseHexColour('#8a8478');
const WALL_COLOUR = parseHexColour('#dcd6c8');
const SKIRTING_COLOUR = parseHexColour('#5f5b55');
const SKIRTING_M = 0.1;
const CEILING_COLOUR = parseHexColour('#e8e8e6');
/** Label band of a pack, as a share of its height. */
const PACK_LABEL = [0.3, 0.7] as const;

interface PlacedBox extends SceneBox {
  bounds: PixelRect | null;
}

export class StaticLayer {
  readonly width: number;
  readonly height: number;
  readonly colour: Uint8Array;
  /** Camera depth (z in the camera frame) of what each pixel shows, metres. */
  readonly depth: Float32Array;
  private readonly rays: CameraRays;
  private readonly centre: [number, number, number];
  private readonly rT: Float64Array;
  private readonly frame: PlacedBox[];
  private readonly lanes = new Map<string, { count: number; bounds: PixelRect | null; boxes: PlacedBox[] }>();
  private readonly walls: Array<{ ax: number; ay: number; bx: number; by: number; nx: number; ny: number }>;
  private readonly floor: [number, number][];
  private readonly wallHeightM: number;

  constructor(
    private readonly store: Store,
    private readonly camera: Camera,
    stock: StockByLane = new Map(),
  ) {
    this.width = camera.width;
    this.height = camera.height;
    this.colour = new Uint8Array(this.width * this.height * 3);
    this.depth = new Float32Array(this.width * this.height);
    this.rays = cameraRays(camera);
    this.centre = cameraCentre(camera);
    const R = camera.pose.rotation;
    // Transpose of R: camera-frame ray directions to the store frame.
    this.rT = Float64Array.from([R[0][0], R[1][0], R[2][0], R[0][1], R[1][1], R[2][1], R[0][2], R[1][2], R[2][2]]);
    this.floor = store.layout.floor.map((p) => [p[0], p[1]]);
    this.wallHeightM = store.layout.wallHeightM;
    this.walls = this.floor.map((a, i) => {
      const b = this.floor[(i + 1) % this.floor.length];
      const l = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
      return { ax: a[0], ay: a[1], bx: b[0], by: b[1], nx: -(b[1] - a[1]) / l, ny: (b[0] - a[0]) / l };
    });
    this.frame = store.layout.gondolas.flatMap((g) => gondolaBoxes(g)).map((b) => this.place(b));
    const counts = initialStock(store);
    for (const [laneId, count] of stock) counts.set(laneId, count);
    for (const laneId of counts.keys()) this.lanes.set(laneId, { count: -1, bounds: null, boxes: [] });
    this.setStock(counts);
    this.renderRegion({ x0: 0, y0: 0, x1: this.width - 1, y1: this.height - 1 });
  }

  /**
   * Brings the layer up to date with the stock; returns the number of lanes redrawn. Lanes not in
   * `stock` keep their last count.
   */
  update(stock: StockByLane): number {
    const changed = this.setStock(stock);
    let region: PixelRect | null = null;
    for (const laneId of changed) region = unionRect(region, this.lanes.get(laneId)!.bounds);
    if (region) this.renderRegion(region);
    return changed.length;
  }

  private setStock(stock: StockByLane): string[] {
    const changed: string[] = [];
    for (const [laneId, count] of stock) {
      const lane = this.lanes.get(laneId);
      if (!lane || lane.count === count) continue;
      const where = this.findLane(laneId);
      if (!where) continue;
      const product = this.store.planogram.products.find((p) => p.id === where.productId)!;
      lane.count = count;
      lane.boxes = laneItemBoxes(where.lane, where.gondola, product, count).map((b) => this.place(b));
      lane.bounds ??= worldBoxBounds(this.camera, where.lane.box.min, where.lane.box.max, NEAR_M);
      changed.push(laneId);
    }
    return changed;
  }

  private laneLookup?: Map<string, { lane: Lane; gondola: Gondola; productId: string }>;
  private findLane(laneId: string) {
    if (!this.laneLookup) {
      const productByLane = new Map(this.store.planogram.placements.map((p) => [p.laneId, p.productId]));
      this.laneLookup = new Map();
      for (const gondola of this.store.layout.gondolas)
        for (const shelf of gondola.shelves)
          for (const lane of shelf.lanes) {
            const productId = productByLane.get(lane.id);
            if (productId) this.laneLookup.set(lane.id, { lane, gondola, productId });
          }
    }
    return this.laneLookup.get(laneId);
  }

  private place(box: SceneBox): PlacedBox {
    return { ...box, bounds: worldBoxBounds(this.camera, box.min, box.max, NEAR_M) };
  }

  /** Casts every pixel of `region` against the room and every box that can cover it. */
  renderRegion(region: PixelRect): void {
    this.renderRoom(region);
    for (const b of this.frame) this.renderBox(b, region);
    for (const lane of this.lanes.values()) for (const b of lane.boxes) this.renderBox(b, region);
  }

  private renderRoom(region: PixelRect): void {
    const { width, colour, depth } = this;
    const { x: rx, y: ry } = this.rays;
    const rT = this.rT;
    const [cx, cy, cz] = this.centre;
    const wallH = this.wallHeightM;
    for (let row = region.y0; row <= region.y1; row++) {
      for (let col = region.x0; col <= region.x1; col++) {
        const i = row * width + col;
        const x = rx[i];
        const y = ry[i];
        const dx = rT[0] * x + rT[1] * y + rT[2];
        const dy = rT[3] * x + rT[4] * y + rT[5];
        const dz = rT[6] * x + rT[7] * y + rT[8];
        let best = Infinity;
        let r = WALL_COLOUR[0];
        let g = WALL_COLOUR[1];
        let b = WALL_COLOUR[2];
        let shade = 1;
        if (dz < 0) {
          const t = -cz / dz;
          const px = cx + t * dx;
          const py = cy + t * dy;
          if (t > NEAR_M && this.onFloor(px, py)) {
            best = t;
            const [fr, fg, fb] = floorColour(px, py);
            r = fr;
            g = fg;
            b = fb;
            shade = lambert(0, 0, 1);
          }
        } else if (dz > 0) {
          const t = (wallH - cz) / dz;
          if (t > NEAR_M) {
            best = t;
            r = CEILING_COLOUR[0];
            g = CEILING_COLOUR[1];
            b = CEILING_COLOUR[2];
            shade = 0.95;
          }
        }
        for (const wall of this.walls) {
          const denom = dx * wall.nx + dy * wall.ny;
          if (Math.abs(denom) < 1e-12) continue;
          const t = ((wall.ax - cx) * wall.nx + (wall.ay - cy) * wall.ny) / denom;
          if (!(t > NEAR_M && t < best)) continue;
          const px = cx + t * dx;
          const py = cy + t * dy;
          const pz = cz + t * dz;
          const ex = wall.bx - wall.ax;
          const ey = wall.by - wall.ay;
          const along = ((px - wall.ax) * ex + (py - wall.ay) * ey) / (ex * ex + ey * ey);
          if (along < 0 || along > 1 || pz < 0 || pz > wallH) continue;
          best = t;
          const skirting = pz < SKIRTING_M;
          r = skirting ? SKIRTING_COLOUR[0] : WALL_COLOUR[0];
          g = skirting ? SKIRTING_COLOUR[1] : WALL_COLOUR[1];
          b = skirting ? SKIRTING_COLOUR[2] : WALL_COLOUR[2];
          // The wall faces the camera whichever way the polygon winds.
          const s = denom > 0 ? -1 : 1;
          shade = lambert(s * wall.nx, s * wall.ny, 0);
        }
        depth[i] = best;
        colour[i * 3] = clampByte(r * shade);
        colour[i * 3 + 1] = clampByte(g * shade);
        colour[i * 3 + 2] = clampByte(b * shade);
      }
    }
  }

  private onFloor(px: number, py: number): boolean {
    // Even-odd rule: the floor may be any simple polygon.
    const poly = this.floor;
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i];
      const [xj, yj] = poly[j];
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  private renderBox(box: PlacedBox, region: PixelRect): void {
    if (!box.bounds) return;
    const area = intersectRect(box.bounds, region);
    if (!area) return;
    const { width, colour, depth } = this;
    const { x: rx, y: ry } = this.rays;
    const rT = this.rT;
    const [cx, cy, cz] = this.centre;
    const [minX, minY, minZ] = box.min;
    const [maxX, maxY, maxZ] = box.max;
    const sizeZ = maxZ - minZ || 1;
    const [br, bg, bb] = box.colour;
    const pack = box.finish === Finish.Pack;
    for (let row = area.y0; row <= area.y1; row++) {
      for (let col = area.x0; col <= area.x1; col++) {
        const i = row * width + col;
        const x = rx[i];
        const y = ry[i];
        const dx = rT[0] * x + rT[1] * y + rT[2];
        const dy = rT[3] * x + rT[4] * y + rT[5];
        const dz = rT[6] * x + rT[7] * y + rT[8];
        // Slab test; the entry face is the axis whose slab is entered last.
        let t1 = (minX - cx) / dx;
        let t2 = (maxX - cx) / dx;
        let near = t1 < t2 ? t1 : t2;
        let far = t1 < t2 ? t2 : t1;
        let axis = 0;
        t1 = (minY - cy) / dy;
        t2 = (maxY - cy) / dy;
        let n = t1 < t2 ? t1 : t2;
        let f = t1 < t2 ? t2 : t1;
        if (n > near) {
          near = n;
          axis = 1;
        }
        if (f < far) far = f;
        t1 = (minZ - cz) / dz;
        t2 = (maxZ - cz) / dz;
        n = t1 < t2 ? t1 : t2;
        f = t1 < t2 ? t2 : t1;
        if (n > near) {
          near = n;
          axis = 2;
        }
        if (f < far) far = f;
        if (!(near <= far && near > NEAR_M && near < depth[i])) continue;
        let shade: number;
        if (axis === 0) shade = lambert(dx > 0 ? -1 : 1, 0, 0);
        else if (axis === 1) shade = lambert(0, dy > 0 ? -1 : 1, 0);
        else shade = lambert(0, 0, dz > 0 ? -1 : 1);
        let r = br;
        let g = bg;
        let b = bb;
        if (pack) {
          // A pale label round the middle of the sides, a lighter lid on top.
          const lighten = axis === 2 ? 0.18 : (cz + near * dz - minZ) / sizeZ;
          const share = axis === 2 ? lighten : lighten > PACK_LABEL[0] && lighten < PACK_LABEL[1] ? 0.55 : 0;
          r += (235 - r) * share;
          g += (232 - g) * share;
          b += (225 - b) * share;
        }
        depth[i] = near;
        colour[i * 3] = clampByte(r * shade);
        colour[i * 3 + 1] = clampByte(g * shade);
        colour[i * 3 + 2] = clampByte(b * shade);
      }
    }
  }
}

function floorColour(px: number, py: number): [number, number, number] {
  const u = px / TILE_M;
  const v = py / TILE_M;
  const fu = u - Math.floor(u);
  const fv = v - Math.floor(v);
  const grout = GROUT_M / TILE_M;
  if (fu < grout || fv < grout) return GROUT_COLOUR;
  return (Math.floor(u) + Math.floor(v)) & 1 ? FLOOR_ALT_COLOUR : FLOOR_COLOUR;
}

export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
}
