import { z } from 'zod';
import { Box3, Id, Polygon, SCHEMA_VERSION, Vec3 } from './common.schema.ts';
import { cameraCentre, distanceToPolygonEdge, insidePolygon } from './store.frame.ts';

/**
 * The description of one store: its floor, shelves and lanes (layout), what sits where (planogram),
 * and the devices that watch it (cameras, load cells, gates). Everything is in the store frame:
 * metres, x and y on the floor, z up.
 */

/**
 * The largest floor walkout handles, metres a side: a large supermarket fits. The simulator plans
 * walks on a 10 cm grid of the floor (four million cells at this size); a store much larger than a
 * shop is a mistake in the file, such as millimetres written as metres.
 */
export const MAX_FLOOR_SIDE_M = 200;
/**
 * How far a camera may sit outside the floor outline or above the walls, metres: a camera on a wall
 * bracket or in a ceiling recess. Anything further is not watching this store.
 */
export const CAMERA_MOUNT_SLACK_M = 0.5;
/** Rounding in hand-written coordinates, metres: a zone or gondola this far over the floor's edge still stands on it. */
const LAYOUT_SLACK_M = 0.01;

export const ZoneKind = z.enum(['entry', 'exit', 'staff-door', 'shopping']).describe('What a zone of the floor is for.');

export const Zone = z
  .strictObject({
    id: Id,
    kind: ZoneKind,
    polygon: Polygon.describe('Where the zone lies on the floor, metres.'),
  })
  .describe('A named area of the floor: gates stand in entry and exit zones.');

export const Plate = z
  .strictObject({
    id: Id.describe('Plate id, e.g. "g2-s5-p3" (gondola 2, shelf 5, plate 3).'),
    box: Box3.describe('The plate surface as a thin box, metres.'),
  })
  .describe('A rigid plate on a shelf that rests on one load cell; lanes rest on plates.');

export const Lane = z
  .strictObject({
    id: Id.describe('Lane id, e.g. "g2-s5-l4" (gondola 2, shelf 5, lane 4).'),
    box: Box3.describe('The space one product occupies on the shelf, metres.'),
    plateIds: z.array(Id).min(1).describe('The plates this lane rests on; a lane spanning two plates splits its weight.'),
  })
  .describe('A 3D box where one product sits, resting on one or more load-cell plates.');

export const Shelf = z
  .strictObject({
    id: Id.describe('Shelf id, e.g. "g2-s5".'),
    surfaceHeightM: z.number().nonnegative().describe('Height of the shelf surface above the floor, metres.'),
    plates: z.array(Plate).min(1),
    lanes: z.array(Lane).min(1),
  })
  .describe('One shelf of a gondola with its plates and lanes.');

export const Gondola = z
  .strictObject({
    id: Id.describe('Gondola id, e.g. "g2".'),
    box: Box3.describe('The whole gondola unit, metres.'),
    facing: z
      .enum(['+x', '-x', '+y', '-y'])
      .describe('The direction shoppers face the gondola from: the side its shelves open to.'),
    shelves: z.array(Shelf).min(1),
  })
  .describe('A free-standing or wall shelving unit.');

export const Layout = z
  .strictObject({
    floor: Polygon.describe(`The shop floor outline, metres; at most ${MAX_FLOOR_SIDE_M} m a side.`),
    wallHeightM: z.number().positive().describe('Height of the walls and ceiling, metres.'),
    zones: z.array(Zone),
    gondolas: z.array(Gondola),
  })
  .describe('The physical store: floor, zones and shelving.');

export const Product = z
  .strictObject({
    id: Id.describe('Product id (SKU), e.g. "p-0042".'),
    name: z.string().min(1).describe('Name as printed on the receipt.'),
    barcode: z.string().regex(/^\d{8,14}$/, 'a barcode is 8 to 14 digits (EAN/UPC/GTIN)').describe('GTIN barcode.'),
    priceCents: z.number().int().nonnegative().describe('Unit price in the store currency, in cents.'),
    unitWeightGrams: z.number().positive().describe('Mean weight of one unit, grams.'),
    weightSpreadGrams: z.number().nonnegative().describe('Standard deviation of one unit\'s weight, grams.'),
    ageRestricted: z.boolean().describe('Sale needs an age check (alcohol, tobacco).'),
    sizeM: Vec3.describe('Package width, depth and height, metres (used to draw it and to count facings).'),
    colour: z.string().regex(/^#[0-9a-f]{6}$/, 'a colour is #rrggbb').describe('Main package colour, for rendering.'),
  })
  .describe('One sellable product.');

export const Placement = z
  .strictObject({
    laneId: Id,
    productId: Id,
    capacity: z.number().int().positive().describe('How many units fit in the lane.'),
    initialStock: z.number().int().nonnegative().describe('Units in the lane when the store opens.'),
  })
  .describe('Which product a lane holds, and how many.');

export const Planogram = z
  .strictObject({
    products: z.array(Product).min(1),
    placements: z.array(Placement).min(1),
  })
  .describe('What the store sells and which lane holds each product.');

export const CameraIntrinsics = z
  .strictObject({
    fx: z.number().positive().describe('Focal length along x, pixels.'),
    fy: z.number().positive().describe('Focal length along y, pixels.'),
    cx: z.number().describe('Principal point x, pixels.'),
    cy: z.number().describe('Principal point y, pixels.'),
  })
  .describe('Pinhole intrinsics (OpenCV K matrix).');

export const LensDistortion = z
  .strictObject({
    k1: z.number(),
    k2: z.number(),
    p1: z.number(),
    p2: z.number(),
    k3: z.number(),
  })
  .describe('OpenCV radial (k1, k2, k3) and tangential (p1, p2) distortion coefficients.');

export const CameraPose = z
  .strictObject({
    rotation: z
      .tuple([Vec3, Vec3, Vec3])
      .describe('World-to-camera rotation R, row-major (OpenCV: x_cam = R x_world + t).'),
    translation: Vec3.describe('World-to-camera translation t, metres.'),
  })
  .describe('Where the camera is and where it looks, as an OpenCV extrinsic [R|t].');

export const Camera = z
  .strictObject({
    id: Id.describe('Camera id, e.g. "cam-3".'),
    kind: z.enum(['ceiling', 'shelf']).describe('Mounted on the ceiling looking at aisles, or on a shelf looking at lanes.'),
    width: z.number().int().positive().describe('Image width, pixels.'),
    height: z.number().int().positive().describe('Image height, pixels.'),
    fps: z.number().positive().max(120).describe('Frames per second.'),
    intrinsics: CameraIntrinsics,
    distortion: LensDistortion,
    pose: CameraPose,
  })
  .describe('A calibrated camera.');

export const LoadCell = z
  .strictObject({
    id: Id.describe('Load cell id, e.g. "lc-g2-s5-p3".'),
    plateId: Id.describe('The plate this load cell carries (and through it, the lanes on the plate).'),
    sampleRateHz: z.number().positive().max(2000).describe('Samples per second.'),
    noiseGrams: z.number().nonnegative().describe('Standard deviation of resting noise, grams.'),
    capacityGrams: z.number().positive().describe('Reading at which the cell saturates, grams.'),
  })
  .describe('A weight sensor under one shelf plate.');

export const Gate = z
  .strictObject({
    id: Id.describe('Gate id, e.g. "gate-in-1".'),
    zoneId: Id.describe('The zone the gate stands in.'),
    kind: z.enum(['entry', 'exit', 'staff']).describe('Entry gates scan app QR codes; exit gates close visits.'),
  })
  .describe('A gate shoppers pass through.');

const StoreShape = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION).describe('Version of this schema.'),
  id: Id.describe('Store id, e.g. "kiosk-1".'),
  name: z.string().min(1).describe('Human name of the store.'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR').describe('Currency of every price.'),
  layout: Layout,
  planogram: Planogram,
  cameras: z.array(Camera).describe('May be empty: a store imported from shelf data alone has no cameras.'),
  loadCells: z.array(LoadCell),
  gates: z.array(Gate).min(1),
});

export type Zone = z.infer<typeof Zone>;
export type Plate = z.infer<typeof Plate>;
export type Lane = z.infer<typeof Lane>;
export type Shelf = z.infer<typeof Shelf>;
export type Gondola = z.infer<typeof Gondola>;
export type Layout = z.infer<typeof Layout>;
export type Product = z.infer<typeof Product>;
export type Placement = z.infer<typeof Placement>;
export type Planogram = z.infer<typeof Planogram>;
export type Camera = z.infer<typeof Camera>;
export type LoadCell = z.infer<typeof LoadCell>;
export type Gate = z.infer<typeof Gate>;
export type Store = z.infer<typeof StoreShape>;

/** A problem a cross-field check found, naming the element that is wrong. */
export interface StoreIssue {
  path: (string | number)[];
  message: string;
}
type StoreCheck = (store: Store) => StoreIssue[];

const boxContains = (outer: z.infer<typeof Box3>, inner: z.infer<typeof Box3>, slackM = 1e-6) =>
  [0, 1, 2].every((i) => inner.min[i] >= outer.min[i] - slackM && inner.max[i] <= outer.max[i] + slackM);

const boxIsOrdered = (box: z.infer<typeof Box3>) => [0, 1, 2].every((i) => box.max[i] >= box.min[i]);

type FloorPoint = readonly [number, number];

/** Distance from a point to the floor outline, metres: 0 on or inside it. */
const distanceOffFloor = (point: FloorPoint, floor: readonly FloorPoint[]): number =>
  insidePolygon(point, floor) ? 0 : distanceToPolygonEdge(point, floor);

/** A length for a message: at most two decimals, no trailing zeros. */
const metres = (value: number) => String(Number(value.toFixed(2)));
const at = (point: readonly number[]) => `(${point.map(metres).join(', ')})`;

/** The first corner of `corners` more than the slack off the floor, and how far off it is. */
function cornerOffFloor(corners: readonly FloorPoint[], floor: readonly FloorPoint[]): { corner: FloorPoint; distance: number } | undefined {
  for (const corner of corners) {
    const distance = distanceOffFloor(corner, floor);
    if (distance > LAYOUT_SLACK_M) return { corner, distance };
  }
  return undefined;
}

const footprint = (box: z.infer<typeof Box3>): FloorPoint[] => [
  [box.min[0], box.min[1]],
  [box.max[0], box.min[1]],
  [box.max[0], box.max[1]],
  [box.min[0], box.max[1]],
];

export function idsAreUnique(store: Store): StoreIssue[] {
  const seen = new Map<string, string>();
  const issues: StoreIssue[] = [];
  const claim = (kind: string, id: string, path: (string | number)[]) => {
    const key = `${kind}:${id}`;
    if (seen.has(key)) issues.push({ path, message: `${kind} ${id} is declared twice (first at ${seen.get(key)})` });
    else seen.set(key, path.join('.'));
  };
  store.layout.zones.forEach((z, i) => claim('zone', z.id, ['layout', 'zones', i, 'id']));
  store.layout.gondolas.forEach((g, gi) => {
    claim('gondola', g.id, ['layout', 'gondolas', gi, 'id']);
    g.shelves.forEach((s, si) => {
      const at = ['layout', 'gondolas', gi, 'shelves', si];
      claim('shelf', s.id, [...at, 'id']);
      s.plates.forEach((p, pi) => claim('plate', p.id, [...at, 'plates', pi, 'id']));
      s.lanes.forEach((l, li) => claim('lane', l.id, [...at, 'lanes', li, 'id']));
    });
  });
  store.planogram.products.forEach((p, i) => claim('product', p.id, ['planogram', 'products', i, 'id']));
  store.cameras.forEach((c, i) => claim('camera', c.id, ['cameras', i, 'id']));
  store.loadCells.forEach((c, i) => claim('load cell', c.id, ['loadCells', i, 'id']));
  store.gates.forEach((g, i) => claim('gate', g.id, ['gates', i, 'id']));
  return issues;
}

export function boxesAreOrderedAndNested(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  store.layout.gondolas.forEach((g, gi) => {
    const at = ['layout', 'gondolas', gi];
    if (!boxIsOrdered(g.box)) issues.push({ path: [...at, 'box'], message: `gondola ${g.id}: box max is below min` });
    g.shelves.forEach((s, si) => {
      for (const [kind, items] of [['plate', s.plates], ['lane', s.lanes]] as const) {
        items.forEach((item, ii) => {
          const path = [...at, 'shelves', si, `${kind}s`, ii, 'box'];
          if (!boxIsOrdered(item.box)) issues.push({ path, message: `${kind} ${item.id}: box max is below min` });
          else if (!boxContains(g.box, item.box))
            issues.push({ path, message: `${kind} ${item.id} sticks out of gondola ${g.id}` });
        });
      }
    });
  });
  return issues;
}

export function lanesRestOnPlatesOfTheirShelf(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  store.layout.gondolas.forEach((g, gi) =>
    g.shelves.forEach((s, si) => {
      const plates = new Map(s.plates.map((p) => [p.id, p]));
      s.lanes.forEach((lane, li) => {
        lane.plateIds.forEach((plateId, pi) => {
          const path = ['layout', 'gondolas', gi, 'shelves', si, 'lanes', li, 'plateIds', pi];
          const plate = plates.get(plateId);
          if (!plate) {
            issues.push({ path, message: `lane ${lane.id} rests on plate ${plateId}, which is not on shelf ${s.id}` });
            return;
          }
          const overlapX = Math.min(lane.box.max[0], plate.box.max[0]) - Math.max(lane.box.min[0], plate.box.min[0]);
          const overlapY = Math.min(lane.box.max[1], plate.box.max[1]) - Math.max(lane.box.min[1], plate.box.min[1]);
          if (overlapX <= 0 || overlapY <= 0)
            issues.push({ path, message: `lane ${lane.id} does not overlap plate ${plateId} it claims to rest on` });
        });
      });
    }),
  );
  return issues;
}

export function everyPlateHasOneLoadCell(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  const plateIds = new Set(store.layout.gondolas.flatMap((g) => g.shelves.flatMap((s) => s.plates.map((p) => p.id))));
  const carried = new Map<string, string>();
  store.loadCells.forEach((cell, i) => {
    const path = ['loadCells', i, 'plateId'];
    if (!plateIds.has(cell.plateId)) issues.push({ path, message: `load cell ${cell.id} carries unknown plate ${cell.plateId}` });
    else if (carried.has(cell.plateId))
      issues.push({ path, message: `load cell ${cell.id} carries plate ${cell.plateId}, already carried by ${carried.get(cell.plateId)}` });
    else carried.set(cell.plateId, cell.id);
  });
  for (const plateId of plateIds)
    if (!carried.has(plateId)) issues.push({ path: ['loadCells'], message: `plate ${plateId} has no load cell` });
  return issues;
}

export function placementsReferToKnownLanesAndProducts(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  const laneIds = new Set(store.layout.gondolas.flatMap((g) => g.shelves.flatMap((s) => s.lanes.map((l) => l.id))));
  const productIds = new Set(store.planogram.products.map((p) => p.id));
  const laneHolds = new Map<string, string>();
  store.planogram.placements.forEach((pl, i) => {
    const at = ['planogram', 'placements', i];
    if (!laneIds.has(pl.laneId)) issues.push({ path: [...at, 'laneId'], message: `placement ${i} names unknown lane ${pl.laneId}` });
    if (!productIds.has(pl.productId))
      issues.push({ path: [...at, 'productId'], message: `lane ${pl.laneId} holds unknown product ${pl.productId}` });
    if (laneHolds.has(pl.laneId))
      issues.push({ path: [...at, 'laneId'], message: `lane ${pl.laneId} holds both ${laneHolds.get(pl.laneId)} and ${pl.productId}` });
    laneHolds.set(pl.laneId, pl.productId);
    if (pl.initialStock > pl.capacity)
      issues.push({ path: [...at, 'initialStock'], message: `lane ${pl.laneId} starts with ${pl.initialStock} units but holds ${pl.capacity}` });
  });
  return issues;
}

export function camerasAreWellFormed(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  store.cameras.forEach((cam, i) => {
    const { cx, cy } = cam.intrinsics;
    if (cx < 0 || cx > cam.width || cy < 0 || cy > cam.height)
      issues.push({
        path: ['cameras', i, 'intrinsics'],
        message: `camera ${cam.id}: principal point (${cx}, ${cy}) lies outside its ${cam.width}x${cam.height} image`,
      });
    const R = cam.pose.rotation;
    const det =
      R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
      R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
      R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
    const orthonormal = [0, 1, 2].every((a) =>
      [0, 1, 2].every((b) => Math.abs(R[a][0] * R[b][0] + R[a][1] * R[b][1] + R[a][2] * R[b][2] - (a === b ? 1 : 0)) < 1e-4),
    );
    if (!orthonormal || Math.abs(det - 1) > 1e-4)
      issues.push({ path: ['cameras', i, 'pose', 'rotation'], message: `camera ${cam.id}: rotation is not a proper rotation matrix` });
  });
  return issues;
}

export function gatesStandInMatchingZones(store: Store): StoreIssue[] {
  const zones = new Map(store.layout.zones.map((z) => [z.id, z]));
  const wanted = { entry: 'entry', exit: 'exit', staff: 'staff-door' } as const;
  const issues: StoreIssue[] = [];
  store.gates.forEach((gate, i) => {
    const zone = zones.get(gate.zoneId);
    if (!zone) issues.push({ path: ['gates', i, 'zoneId'], message: `gate ${gate.id} stands in unknown zone ${gate.zoneId}` });
    else if (zone.kind !== wanted[gate.kind])
      issues.push({ path: ['gates', i, 'zoneId'], message: `${gate.kind} gate ${gate.id} stands in ${zone.kind} zone ${zone.id}` });
  });
  if (!store.gates.some((g) => g.kind === 'entry')) issues.push({ path: ['gates'], message: 'the store has no entry gate' });
  if (!store.gates.some((g) => g.kind === 'exit')) issues.push({ path: ['gates'], message: 'the store has no exit gate' });
  return issues;
}

export function floorIsWithinLimits(store: Store): StoreIssue[] {
  const { floor } = store.layout;
  const xs = floor.map((corner) => corner[0]);
  const ys = floor.map((corner) => corner[1]);
  const width = Math.max(...xs) - Math.min(...xs);
  const depth = Math.max(...ys) - Math.min(...ys);
  if (width <= 0 || depth <= 0) return [{ path: ['layout', 'floor'], message: `the floor has no area: it spans ${metres(width)} x ${metres(depth)} m` }];
  if (width > MAX_FLOOR_SIDE_M || depth > MAX_FLOOR_SIDE_M)
    return [
      {
        path: ['layout', 'floor'],
        message: `the floor spans ${metres(width)} x ${metres(depth)} m; walkout handles floors up to ${MAX_FLOOR_SIDE_M} m a side (MAX_FLOOR_SIDE_M)`,
      },
    ];
  return [];
}

export function zonesLieOnTheFloor(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  store.layout.zones.forEach((zone, i) => {
    const off = cornerOffFloor(zone.polygon, store.layout.floor);
    if (off)
      issues.push({
        path: ['layout', 'zones', i, 'polygon'],
        message: `${zone.kind} zone ${zone.id} lies off the floor: its corner ${at(off.corner)} is ${metres(off.distance)} m outside it`,
      });
  });
  return issues;
}

export function gondolasStandOnTheFloor(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  store.layout.gondolas.forEach((gondola, i) => {
    const off = cornerOffFloor(footprint(gondola.box), store.layout.floor);
    if (off)
      issues.push({
        path: ['layout', 'gondolas', i, 'box'],
        message: `gondola ${gondola.id} stands off the floor: its corner ${at(off.corner)} is ${metres(off.distance)} m outside it`,
      });
  });
  return issues;
}

export function gondolasDoNotOverlap(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  const gondolas = store.layout.gondolas;
  gondolas.forEach((gondola, i) => {
    for (const earlier of gondolas.slice(0, i)) {
      const overlapX = Math.min(gondola.box.max[0], earlier.box.max[0]) - Math.max(gondola.box.min[0], earlier.box.min[0]);
      const overlapY = Math.min(gondola.box.max[1], earlier.box.max[1]) - Math.max(gondola.box.min[1], earlier.box.min[1]);
      // Back to back (sharing a side) is how shelving stands; only a real overlap is a mistake.
      if (overlapX > LAYOUT_SLACK_M && overlapY > LAYOUT_SLACK_M)
        issues.push({
          path: ['layout', 'gondolas', i, 'box'],
          message: `gondola ${gondola.id} overlaps gondola ${earlier.id} by ${metres(overlapX)} x ${metres(overlapY)} m`,
        });
    }
  });
  return issues;
}

export function camerasAreInTheStore(store: Store): StoreIssue[] {
  const issues: StoreIssue[] = [];
  const { floor, wallHeightM } = store.layout;
  store.cameras.forEach((camera, i) => {
    const centre = cameraCentre(camera);
    const path = ['cameras', i, 'pose'];
    const off = distanceOffFloor([centre[0], centre[1]], floor);
    if (off > CAMERA_MOUNT_SLACK_M) issues.push({ path, message: `camera ${camera.id} sits at ${at(centre)}, ${metres(off)} m outside the floor` });
    else if (centre[2] > wallHeightM + CAMERA_MOUNT_SLACK_M)
      issues.push({ path, message: `camera ${camera.id} sits at ${at(centre)}, ${metres(centre[2] - wallHeightM)} m above the ${metres(wallHeightM)} m walls` });
    else if (centre[2] < 0) issues.push({ path, message: `camera ${camera.id} sits at ${at(centre)}, below the floor` });
  });
  return issues;
}

/** The named cross-field checks, run in this order after the shape is valid. */
export const storeChecks: Record<string, StoreCheck> = {
  floorIsWithinLimits,
  zonesLieOnTheFloor,
  gondolasStandOnTheFloor,
  gondolasDoNotOverlap,
  idsAreUnique,
  boxesAreOrderedAndNested,
  lanesRestOnPlatesOfTheirShelf,
  everyPlateHasOneLoadCell,
  placementsReferToKnownLanesAndProducts,
  camerasAreWellFormed,
  camerasAreInTheStore,
  gatesStandInMatchingZones,
};

export const StoreSchema = StoreShape.superRefine((store, ctx) => {
  for (const check of Object.values(storeChecks))
    for (const issue of check(store)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
}).describe('A whole store: layout, planogram and devices.');
