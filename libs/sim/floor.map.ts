import type { Gondola, Lane, StoreIndex, Vec2, Vec3 } from '../contracts/index.ts';
import { distanceToPolygonEdge, insidePolygon } from '../contracts/store.frame.ts';

/**
 * Where people can walk: the floor polygon minus gondolas, on a grid, with shortest paths around
 * obstacles (A* on 8-neighbour cells, then string-pulled to straight segments).
 */

const CELL_M = 0.1;
const BODY_RADIUS_M = 0.25; // half a shoulder width plus a little room
const STANDING_DISTANCE_M = 0.32; // from the shelf front to the body centre when taking an item: toes a hand's width away

export interface FloorMap {
  /** A* over the walkable cells, then string-pulled; `avoid` blocks discs (people standing in the way). */
  path(from: Vec2, to: Vec2, avoid?: ReadonlyArray<{ at: Vec2; radius: number }>): Vec2[];
  walkable(p: Vec2): boolean;
  /** Distance from a floor point to the nearest gondola, metres (0 inside one). */
  clearance(p: Vec2): number;
}

export function buildFloorMap(index: StoreIndex): FloorMap {
  const floor = index.store.layout.floor;
  const xs = floor.map((p) => p[0]);
  const ys = floor.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  const cols = Math.ceil((Math.max(...xs) - x0) / CELL_M);
  const rows = Math.ceil((Math.max(...ys) - y0) / CELL_M);
  const free = new Uint8Array(cols * rows);
  const gondolas = index.store.layout.gondolas;
  const centre = (c: number, r: number): Vec2 => [x0 + (c + 0.5) * CELL_M, y0 + (r + 0.5) * CELL_M];
  const clearOf = (p: Vec2, radius: number) =>
    insidePolygon(p, floor) &&
    distanceToPolygonEdge(p, floor) >= radius * 0.6 &&
    gondolas.every(
      (g) => p[0] < g.box.min[0] - radius || p[0] > g.box.max[0] + radius || p[1] < g.box.min[1] - radius || p[1] > g.box.max[1] + radius,
    );
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) free[r * cols + c] = clearOf(centre(c, r), BODY_RADIUS_M) ? 1 : 0;

  const cellOf = (p: Vec2): [number, number] => [
    Math.min(cols - 1, Math.max(0, Math.floor((p[0] - x0) / CELL_M))),
    Math.min(rows - 1, Math.max(0, Math.floor((p[1] - y0) / CELL_M))),
  ];
  const isFree = (c: number, r: number) => c >= 0 && r >= 0 && c < cols && r < rows && free[r * cols + c] === 1;

  const nearestFree = (c: number, r: number): [number, number] => {
    if (isFree(c, r)) return [c, r];
    for (let ring = 1; ring < Math.max(cols, rows); ring++)
      for (let dr = -ring; dr <= ring; dr++)
        for (let dc = -ring; dc <= ring; dc++)
          if (Math.max(Math.abs(dr), Math.abs(dc)) === ring && isFree(c + dc, r + dr)) return [c + dc, r + dr];
    throw new Error('the floor has no walkable cell');
  };

  const lineOfSight = (a: Vec2, b: Vec2, passable: (c: number, r: number) => boolean) => {
    const steps = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL_M / 2));
    for (let i = 0; i <= steps; i++) {
      const t = steps ? i / steps : 0;
      const [c, r] = cellOf([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
      if (!passable(c, r)) return false;
    }
    return true;
  };

  function path(from: Vec2, to: Vec2, avoid: ReadonlyArray<{ at: Vec2; radius: number }> = []): Vec2[] {
    const [sc, sr] = nearestFree(...cellOf(from));
    const [gc, gr] = nearestFree(...cellOf(to));
    const start = sr * cols + sc;
    const goal = gr * cols + gc;
    // The start and goal cells stay open whoever stands near them.
    const blocked = new Uint8Array(cols * rows);
    for (const { at, radius } of avoid)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const p = centre(c, r);
          if (Math.hypot(p[0] - at[0], p[1] - at[1]) < radius) blocked[r * cols + c] = 1;
        }
    blocked[start] = 0;
    blocked[goal] = 0;
    const isOpen = (c: number, r: number) => isFree(c, r) && blocked[r * cols + c] === 0;
    const g = new Float64Array(cols * rows).fill(Infinity);
    const parent = new Int32Array(cols * rows).fill(-1);
    const closed = new Uint8Array(cols * rows);
    const open: Array<[number, number]> = [];
    const h = (i: number) => Math.hypot((i % cols) - gc, Math.floor(i / cols) - gr);
    const push = (item: [number, number]) => {
      open.push(item);
      let i = open.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (open[p][0] <= open[i][0]) break;
        [open[p], open[i]] = [open[i], open[p]];
        i = p;
      }
    };
    const pop = () => {
      const top = open[0];
      const last = open.pop()!;
      if (open.length) {
        open[0] = last;
        let i = 0;
        for (;;) {
          const a = 2 * i + 1;
          const b = a + 1;
          let m = i;
          if (a < open.length && open[a][0] < open[m][0]) m = a;
          if (b < open.length && open[b][0] < open[m][0]) m = b;
          if (m === i) break;
          [open[m], open[i]] = [open[i], open[m]];
          i = m;
        }
      }
      return top;
    };
    g[start] = 0;
    push([h(start), start]);
    while (open.length) {
      const [, cur] = pop();
      if (cur === goal) break;
      if (closed[cur]) continue;
      closed[cur] = 1;
      const cc = cur % cols;
      const cr = Math.floor(cur / cols);
      for (let dr = -1; dr <= 1; dr++)
        for (let dc = -1; dc <= 1; dc++) {
          if (!dr && !dc) continue;
          const nc = cc + dc;
          const nr = cr + dr;
          // No corner cutting: a diagonal step needs both side cells free.
          if (!isOpen(nc, nr) || (dr && dc && (!isOpen(cc + dc, cr) || !isOpen(cc, cr + dr)))) continue;
          const next = nr * cols + nc;
          const cost = g[cur] + (dr && dc ? Math.SQRT2 : 1);
          if (cost < g[next]) {
            g[next] = cost;
            parent[next] = cur;
            push([cost + h(next), next]);
          }
        }
    }
    if (start !== goal && parent[goal] < 0) return avoid.length > 0 ? path(from, to) : [from, to]; // no way round: the usual way
    const cells: Vec2[] = [];
    for (let i = goal; i !== -1; i = parent[i]) cells.push(centre(i % cols, Math.floor(i / cols)));
    cells.reverse();
    const raw = [from, ...cells.slice(1, -1), to];
    // String pulling: keep only the corners the straight line cannot skip.
    const pulled: Vec2[] = [raw[0]];
    let anchor = 0;
    for (let i = 2; i < raw.length; i++)
      if (!lineOfSight(raw[anchor], raw[i], isOpen)) {
        pulled.push(raw[i - 1]);
        anchor = i - 1;
      }
    pulled.push(raw[raw.length - 1]);
    return pulled;
  }

  const clearance = (p: Vec2) =>
    Math.min(
      ...gondolas.map((g) => Math.hypot(Math.max(g.box.min[0] - p[0], 0, p[0] - g.box.max[0]), Math.max(g.box.min[1] - p[1], 0, p[1] - g.box.max[1]))),
    );
  return { path, walkable: (p) => isFree(...cellOf(p)), clearance };
}

/** The unit vector a gondola opens towards (where shoppers stand). */
export function facingVector(gondola: Gondola): Vec2 {
  return { '+x': [1, 0], '-x': [-1, 0], '+y': [0, 1], '-y': [0, -1] }[gondola.facing] as Vec2;
}

/** Where a shopper stands to take from a lane, facing the gondola, and the point their hand goes to. */
export function laneAccess(index: StoreIndex, laneId: string): { stand: Vec2; heading: number; hand: Vec3; laneFront: Vec3 } {
  const entry = index.lanes.get(laneId);
  if (!entry) throw new Error(`unknown lane ${laneId}`);
  const { lane, gondola } = entry;
  const n = facingVector(gondola);
  const front = laneFrontCentre(lane, n);
  const stand: Vec2 = [front[0] + n[0] * STANDING_DISTANCE_M, front[1] + n[1] * STANDING_DISTANCE_M];
  const heading = Math.atan2(-n[1], -n[0]);
  // The hand closes on the front item a few centimetres inside the lane, just above the shelf.
  const itemHeight = Math.min(0.12, lane.box.max[2] - lane.box.min[2]);
  const hand: Vec3 = [front[0] - n[0] * 0.06, front[1] - n[1] * 0.06, lane.box.min[2] + itemHeight * 0.6];
  return { stand, heading, hand, laneFront: front };
}

function laneFrontCentre(lane: Lane, n: Vec2): Vec3 {
  const cx = (lane.box.min[0] + lane.box.max[0]) / 2;
  const cy = (lane.box.min[1] + lane.box.max[1]) / 2;
  const x = n[0] > 0 ? lane.box.max[0] : n[0] < 0 ? lane.box.min[0] : cx;
  const y = n[1] > 0 ? lane.box.max[1] : n[1] < 0 ? lane.box.min[1] : cy;
  return [x, y, lane.box.min[2]];
}

export function zoneCentre(polygon: Vec2[]): Vec2 {
  const sx = polygon.reduce((s, p) => s + p[0], 0);
  const sy = polygon.reduce((s, p) => s + p[1], 0);
  return [sx / polygon.length, sy / polygon.length];
}
