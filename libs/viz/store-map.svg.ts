import { KP, type ActionTruth, type SkeletonTruth, type StoreIndex, type Vec2 } from '../contracts/index.ts';
import { cameraCentre } from '../geometry/index.ts';
import { esc, PALETTE, svgDocument } from './svg.ts';
import { ThinnedSeries } from './thinned.series.ts';

/**
 * A top-down store map: zones, gondolas and lanes, cameras, each person's walk (from the hips of
 * the 3D ground truth) and where every pick and put happened.
 */
const PX_PER_M = 90;
const MARGIN_PX = 40;
const LEGEND_PX = 220;
/** Points drawn of one person's walk at most: more than a map can show, a few kilobytes a person. */
const WALK_POINTS = 2_000;

/**
 * Each person's walk (the midpoint of the hips) from the skeleton ground truth as it streams by,
 * thinned evenly to WALK_POINTS a person, so a map of hours takes the memory of a map of minutes.
 */
export class WalkPaths {
  private readonly byPerson = new Map<string, ThinnedSeries<Vec2>>();

  add(tick: SkeletonTruth): void {
    for (const person of tick.people) {
      const left = person.keypoints[KP.left_hip];
      const right = person.keypoints[KP.right_hip];
      let walk = this.byPerson.get(person.personId);
      if (!walk) this.byPerson.set(person.personId, (walk = new ThinnedSeries<Vec2>(WALK_POINTS)));
      walk.push([(left[0] + right[0]) / 2, (left[1] + right[1]) / 2]);
    }
  }

  paths(): Map<string, Vec2[]> {
    return new Map([...this.byPerson].map(([personId, walk]) => [personId, walk.items()]));
  }
}

export function storeMapSvg(index: StoreIndex, walks: WalkPaths, actions: ActionTruth[]): string {
  const floor = index.store.layout.floor;
  const maxX = Math.max(...floor.map((p) => p[0]));
  const maxY = Math.max(...floor.map((p) => p[1]));
  const width = Math.ceil(maxX * PX_PER_M + 2 * MARGIN_PX + LEGEND_PX);
  const height = Math.ceil(maxY * PX_PER_M + 2 * MARGIN_PX);
  // Store y points up on the map, as on a floor plan.
  const sx = (x: number) => MARGIN_PX + x * PX_PER_M;
  const sy = (y: number) => height - MARGIN_PX - y * PX_PER_M;
  const poly = (points: Vec2[]) => points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
  const rect = (x0: number, y0: number, x1: number, y1: number, style: string) =>
    `<rect x="${sx(x0).toFixed(1)}" y="${sy(y1).toFixed(1)}" width="${((x1 - x0) * PX_PER_M).toFixed(1)}" height="${((y1 - y0) * PX_PER_M).toFixed(1)}" ${style}/>`;
  const body: string[] = [`<polygon points="${poly(floor)}" fill="#f4f1ea" stroke="#333" stroke-width="2"/>`];
  const zoneFill = { entry: '#c8e6c9', exit: '#ffcdd2', 'staff-door': '#fff9c4', shopping: 'none' } as const;
  for (const zone of index.store.layout.zones) {
    if (zone.kind === 'shopping') continue;
    body.push(`<polygon points="${poly(zone.polygon)}" fill="${zoneFill[zone.kind]}" stroke="#999"/>`);
    const c = zone.polygon.reduce((a, p) => [a[0] + p[0] / zone.polygon.length, a[1] + p[1] / zone.polygon.length], [0, 0]);
    body.push(`<text x="${sx(c[0])}" y="${sy(c[1]) + 4}" font-size="11" text-anchor="middle">${esc(zone.kind)}</text>`);
  }
  for (const gondola of index.store.layout.gondolas) {
    const b = gondola.box;
    body.push(rect(b.min[0], b.min[1], b.max[0], b.max[1], 'fill="#d7ccc8" stroke="#5d4037"'));
    for (const lane of gondola.shelves[0].lanes)
      body.push(rect(lane.box.min[0], lane.box.min[1], lane.box.max[0], lane.box.max[1], 'fill="none" stroke="#a1887f" stroke-width="0.5"'));
    body.push(`<text x="${sx((b.min[0] + b.max[0]) / 2)}" y="${sy((b.min[1] + b.max[1]) / 2) + 4}" font-size="12" text-anchor="middle" font-weight="bold">${esc(gondola.id)}</text>`);
  }
  for (const camera of index.store.cameras) {
    const c = cameraCentre(camera);
    const R = camera.pose.rotation;
    const look: Vec2 = [R[2][0], R[2][1]]; // optical axis in the store frame, projected on the floor
    const l = Math.hypot(look[0], look[1]) || 1;
    const tip: Vec2 = [c[0] + (look[0] / l) * 0.5, c[1] + (look[1] / l) * 0.5];
    body.push(`<line x1="${sx(c[0])}" y1="${sy(c[1])}" x2="${sx(tip[0])}" y2="${sy(tip[1])}" stroke="#455a64" stroke-width="2"/>`);
    body.push(`<circle cx="${sx(c[0])}" cy="${sy(c[1])}" r="6" fill="#455a64"/><text x="${sx(c[0]) + 8}" y="${sy(c[1]) - 8}" font-size="10">${esc(camera.id)}</text>`);
  }
  const tracks = walks.paths();
  const colourOf = new Map([...tracks.keys()].map((id, i) => [id, PALETTE[i % PALETTE.length]]));
  for (const [id, points] of tracks) body.push(`<polyline points="${poly(points)}" fill="none" stroke="${colourOf.get(id)}" stroke-width="2" opacity="0.8"/>`);
  for (const action of actions) {
    if (!action.laneId || !action.personId) continue;
    const lane = index.lanes.get(action.laneId)?.lane;
    if (!lane) continue;
    const cx = (lane.box.min[0] + lane.box.max[0]) / 2;
    const cy = (lane.box.min[1] + lane.box.max[1]) / 2;
    const colour = colourOf.get(action.personId) ?? '#000';
    const shape = action.kind === 'pick' ? `<circle cx="${sx(cx)}" cy="${sy(cy)}" r="6"` : `<rect x="${sx(cx) - 5}" y="${sy(cy) - 5}" width="10" height="10"`;
    body.push(`${shape} fill="${colour}" stroke="#000"><title>${esc(`${action.kind} ${action.quantity} x ${action.productId} by ${action.personId} at ${action.laneId}`)}</title></${action.kind === 'pick' ? 'circle' : 'rect'}>`);
  }
  // Legend.
  const lx = width - LEGEND_PX + 10;
  body.push(`<text x="${lx}" y="${MARGIN_PX}" font-size="13" font-weight="bold">${esc(index.store.name)}</text>`);
  [...colourOf.entries()].forEach(([id, colour], i) => {
    const y = MARGIN_PX + 22 + i * 18;
    body.push(`<line x1="${lx}" y1="${y - 4}" x2="${lx + 22}" y2="${y - 4}" stroke="${colour}" stroke-width="3"/><text x="${lx + 28}" y="${y}" font-size="12">${esc(id)}</text>`);
  });
  const ly = MARGIN_PX + 30 + colourOf.size * 18;
  body.push(`<circle cx="${lx + 11}" cy="${ly}" r="6" fill="#888" stroke="#000"/><text x="${lx + 28}" y="${ly + 4}" font-size="12">pick</text>`);
  body.push(`<rect x="${lx + 6}" y="${ly + 13}" width="10" height="10" fill="#888" stroke="#000"/><text x="${lx + 28}" y="${ly + 22}" font-size="12">put</text>`);
  return svgDocument(width, height, body);
}
