import type { Camera, Gondola, Lane, LoadCell, Placement, Plate, Product, Store, Vec3, Zone } from '../contracts/index.ts';
import { SCHEMA_VERSION, parseStore } from '../contracts/index.ts';
import { lookAt } from '../geometry/index.ts';
import { createRandom, type Random } from './random.ts';

/**
 * Builds store descriptions from a few numbers: gondola footprints, shelf heights, plates and lanes
 * per shelf, camera mounts and a product catalogue. The committed fixtures under fixtures/stores are
 * this generator's output, so they stay consistent with the schema.
 */

const LANE_MARGIN_M = 0.01; // gap between neighbouring lanes and to the shelf edge
const PLATE_THICKNESS_M = 0.01;
const MAX_LANE_HEIGHT_M = 0.35;
const LOAD_CELL_RATE_HZ = 60;
const LOAD_CELL_NOISE_GRAMS = 1.5;
const LOAD_CELL_CAPACITY_GRAMS = 30_000;
const MAX_LANE_STOCK_GRAMS = 10_000; // keeps a plate carrying two full lanes well below the cell's capacity

export interface GondolaSpec {
  /** Footprint on the floor, metres: [minX, minY, maxX, maxY]. */
  footprint: [number, number, number, number];
  facing: Gondola['facing'];
  heightM: number;
  shelfHeightsM: number[];
  platesPerShelf: number;
  lanesPerShelf: number;
}

export interface CameraSpec {
  eye: Vec3;
  target: Vec3;
  kind?: Camera['kind'];
}

export interface StoreSpec {
  id: string;
  name: string;
  seed: number;
  floor: [number, number];
  wallHeightM: number;
  zones: Zone[];
  gondolas: GondolaSpec[];
  cameras: CameraSpec[];
  camera: { width: number; height: number; fps: number; horizontalFovDeg: number; k1: number; k2: number };
  productCount: number;
}

/** Products people buy in a convenience store: typical unit weights (grams), spreads and sizes. */
const CATALOGUE: Array<{
  kind: string;
  grams: number;
  spread: number;
  size: Vec3;
  cents: [number, number];
  ageRestricted?: boolean;
  variants: string[];
}> = [
  { kind: 'Soda can 330 ml', grams: 350, spread: 3, size: [0.066, 0.066, 0.115], cents: [99, 179], variants: ['Cola', 'Lemon', 'Orange', 'Ginger', 'Cherry'] },
  { kind: 'Water 500 ml', grams: 520, spread: 5, size: [0.065, 0.065, 0.21], cents: [79, 149], variants: ['Still', 'Sparkling', 'Lime'] },
  { kind: 'Juice 1 l', grams: 1080, spread: 8, size: [0.07, 0.095, 0.245], cents: [199, 349], variants: ['Apple', 'Orange', 'Multivitamin'] },
  { kind: 'Crisps 150 g', grams: 165, spread: 4, size: [0.19, 0.07, 0.27], cents: [149, 299], variants: ['Salted', 'Paprika', 'Sour cream', 'Salt & vinegar'] },
  { kind: 'Chocolate bar 100 g', grams: 105, spread: 1.5, size: [0.08, 0.015, 0.16], cents: [99, 249], variants: ['Milk', 'Dark', 'Hazelnut', 'White'] },
  { kind: 'Candy 50 g', grams: 55, spread: 1, size: [0.07, 0.02, 0.1], cents: [59, 129], variants: ['Fruit', 'Mint', 'Liquorice'] },
  { kind: 'Sandwich', grams: 220, spread: 10, size: [0.13, 0.07, 0.13], cents: [299, 499], variants: ['Ham & cheese', 'Tuna', 'Egg', 'Veggie'] },
  { kind: 'Yogurt 150 g', grams: 165, spread: 2, size: [0.07, 0.07, 0.08], cents: [59, 119], variants: ['Plain', 'Strawberry', 'Vanilla'] },
  { kind: 'Beer can 500 ml', grams: 530, spread: 4, size: [0.066, 0.066, 0.168], cents: [129, 249], ageRestricted: true, variants: ['Lager', 'Pale ale', 'Wheat'] },
  { kind: 'Wine 750 ml', grams: 1250, spread: 15, size: [0.075, 0.075, 0.3], cents: [599, 1499], ageRestricted: true, variants: ['Red', 'White', 'Rosé'] },
  { kind: 'Cookies 300 g', grams: 320, spread: 4, size: [0.2, 0.06, 0.09], cents: [149, 299], variants: ['Butter', 'Chocolate chip', 'Oat'] },
  { kind: 'Instant noodles', grams: 85, spread: 2, size: [0.12, 0.1, 0.06], cents: [69, 149], variants: ['Chicken', 'Beef', 'Shrimp', 'Curry'] },
  { kind: 'Toothpaste 75 ml', grams: 120, spread: 2, size: [0.18, 0.04, 0.04], cents: [199, 399], variants: ['Mint', 'Whitening'] },
  { kind: 'Milk 1 l', grams: 1045, spread: 6, size: [0.07, 0.07, 0.2], cents: [99, 179], variants: ['Whole', 'Semi-skimmed', 'Oat drink'] },
  { kind: 'Coffee 250 g', grams: 265, spread: 3, size: [0.09, 0.06, 0.17], cents: [399, 799], variants: ['Espresso', 'Filter', 'Decaf'] },
  { kind: 'Chewing gum', grams: 30, spread: 0.8, size: [0.08, 0.02, 0.06], cents: [99, 179], variants: ['Spearmint', 'Peppermint', 'Fruit'] },
  { kind: 'Energy drink 250 ml', grams: 275, spread: 3, size: [0.053, 0.053, 0.135], cents: [149, 249], variants: ['Original', 'Sugar-free', 'Tropical'] },
  { kind: 'Peanuts 200 g', grams: 215, spread: 3, size: [0.14, 0.05, 0.2], cents: [179, 299], variants: ['Salted', 'Honey roasted'] },
];
const BRANDS = ['Northfield', 'Bluebird', 'Sunny Vale', 'Harbour', 'Oakley', 'Piccolo', 'Meadow', 'Copperleaf', 'Stella Mar', 'Kestrel'];

function generateProducts(count: number, random: Random): Product[] {
  const products: Product[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; products.length < count && attempt < count * 50; attempt++) {
    const entry = CATALOGUE[attempt % CATALOGUE.length];
    const brand = random.pick(BRANDS);
    const variant = random.pick(entry.variants);
    const name = `${brand} ${entry.kind} ${variant}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const n = products.length + 1;
    // Brands differ slightly in packaging; flavours of one brand weigh the same (the hard case).
    const brandOffset = ((BRANDS.indexOf(brand) - 4) * entry.grams) / 200;
    const hue = Math.floor(random.uniform(0, 360));
    products.push({
      id: `p-${String(n).padStart(4, '0')}`,
      name,
      barcode: ean13(`400${String(n).padStart(9, '0')}`),
      priceCents: 10 * Math.round(random.uniform(entry.cents[0], entry.cents[1]) / 10) - 1,
      unitWeightGrams: Math.round((entry.grams + brandOffset) * 10) / 10,
      weightSpreadGrams: entry.spread,
      ageRestricted: entry.ageRestricted ?? false,
      sizeM: entry.size,
      colour: hslToHex(hue, random.uniform(0.5, 0.85), random.uniform(0.35, 0.6)),
    });
  }
  return products;
}

function ean13(twelveDigits: string): string {
  const sum = [...twelveDigits].reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return twelveDigits + String((10 - (sum % 10)) % 10);
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function buildGondola(spec: GondolaSpec, gi: number): Gondola {
  const id = `g${gi + 1}`;
  const [x0, y0, x1, y1] = spec.footprint;
  const alongX = spec.facing === '+y' || spec.facing === '-y';
  const [a0, a1] = alongX ? [x0, x1] : [y0, y1];
  const [d0, d1] = alongX ? [y0, y1] : [x0, x1];
  const box3 = (from: number, to: number, zLo: number, zHi: number, inset = 0) => {
    const min: Vec3 = alongX ? [from, d0 + inset, zLo] : [d0 + inset, from, zLo];
    const max: Vec3 = alongX ? [to, d1 - inset, zHi] : [d1 - inset, to, zHi];
    return { min: min.map(round) as Vec3, max: max.map(round) as Vec3 };
  };
  const shelves = spec.shelfHeightsM.map((z, si) => {
    const shelfId = `${id}-s${si + 1}`;
    const nextZ = spec.shelfHeightsM[si + 1] ?? spec.heightM;
    const laneTop = Math.min(nextZ - 0.05, z + MAX_LANE_HEIGHT_M);
    const plateLen = (a1 - a0) / spec.platesPerShelf;
    const plates: Plate[] = Array.from({ length: spec.platesPerShelf }, (_, pi) => ({
      id: `${shelfId}-p${pi + 1}`,
      box: box3(a0 + pi * plateLen, a0 + (pi + 1) * plateLen, z - PLATE_THICKNESS_M, z),
    }));
    const laneLen = (a1 - a0) / spec.lanesPerShelf;
    const lanes: Lane[] = Array.from({ length: spec.lanesPerShelf }, (_, li) => {
      const from = a0 + li * laneLen + LANE_MARGIN_M;
      const to = a0 + (li + 1) * laneLen - LANE_MARGIN_M;
      const plateIds = plates
        .filter((_, pi) => Math.min(to, a0 + (pi + 1) * plateLen) - Math.max(from, a0 + pi * plateLen) > 1e-6)
        .map((p) => p.id);
      return { id: `${shelfId}-l${li + 1}`, box: box3(from, to, z, laneTop, LANE_MARGIN_M), plateIds };
    });
    return { id: shelfId, surfaceHeightM: z, plates, lanes };
  });
  return { id, box: box3(a0, a1, 0, spec.heightM), facing: spec.facing, shelves };
}

function buildCamera(spec: StoreSpec, cam: CameraSpec, i: number): Camera {
  const { width, height, fps, horizontalFovDeg, k1, k2 } = spec.camera;
  const f = width / 2 / Math.tan((horizontalFovDeg * Math.PI) / 360);
  const pose = lookAt(cam.eye, cam.target);
  return {
    id: `cam-${i + 1}`,
    kind: cam.kind ?? 'ceiling',
    width,
    height,
    fps,
    intrinsics: { fx: round(f), fy: round(f), cx: width / 2, cy: height / 2 },
    distortion: { k1, k2, p1: 0, p2: 0, k3: 0 },
    pose: {
      rotation: pose.rotation.map((row) => row.map((v) => Math.round(v * 1e9) / 1e9)) as Camera['pose']['rotation'],
      translation: pose.translation.map((v) => Math.round(v * 1e6) / 1e6) as Vec3,
    },
  };
}

export function generateStore(spec: StoreSpec): Store {
  const random = createRandom(spec.seed);
  const gondolas = spec.gondolas.map(buildGondola);
  const lanes = gondolas.flatMap((g) => g.shelves.flatMap((s) => s.lanes));
  const products = generateProducts(Math.min(spec.productCount, lanes.length), random.fork('products'));
  // Every product gets one lane; lanes left over widen a product's facing to its neighbour lane.
  const placements: Placement[] = lanes.map((lane, i) => {
    const product = i < products.length ? products[i] : products[(i * 7) % products.length];
    const laneLength = Math.max(lane.box.max[0] - lane.box.min[0], lane.box.max[1] - lane.box.min[1]);
    const laneDepth = Math.min(lane.box.max[0] - lane.box.min[0], lane.box.max[1] - lane.box.min[1]);
    const across = Math.max(1, Math.floor(laneLength / product.sizeM[0]));
    const deep = Math.max(1, Math.floor(laneDepth / product.sizeM[1]));
    const capacity = Math.max(1, Math.min(24, across * deep, Math.floor(MAX_LANE_STOCK_GRAMS / product.unitWeightGrams)));
    return { laneId: lane.id, productId: product.id, capacity, initialStock: Math.max(1, capacity - random.int(0, 2)) };
  });
  const loadCells: LoadCell[] = gondolas.flatMap((g) =>
    g.shelves.flatMap((s) =>
      s.plates.map((p) => ({
        id: `lc-${p.id}`,
        plateId: p.id,
        sampleRateHz: LOAD_CELL_RATE_HZ,
        noiseGrams: LOAD_CELL_NOISE_GRAMS,
        capacityGrams: LOAD_CELL_CAPACITY_GRAMS,
      })),
    ),
  );
  const [w, d] = spec.floor;
  const gateKind = { entry: 'entry', exit: 'exit', 'staff-door': 'staff' } as const;
  const gates = spec.zones
    .filter((z): z is Zone & { kind: keyof typeof gateKind } => z.kind in gateKind)
    .map((z) => ({ id: `gate-${z.id}`, zoneId: z.id, kind: gateKind[z.kind] }));
  return parseStore(
    {
      schemaVersion: SCHEMA_VERSION,
      id: spec.id,
      name: spec.name,
      currency: 'EUR',
      layout: { floor: [[0, 0], [w, 0], [w, d], [0, d]], wallHeightM: spec.wallHeightM, zones: spec.zones, gondolas },
      planogram: { products, placements },
      cameras: spec.cameras.map((c, i) => buildCamera(spec, c, i)),
      loadCells,
      gates,
    },
    `generated store ${spec.id}`,
  );
}

const rect = (x0: number, y0: number, x1: number, y1: number): Zone['polygon'] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
const CAMERA_640 = { width: 640, height: 480, fps: 10, horizontalFovDeg: 90, k1: -0.12, k2: 0.02 };

/** A small kiosk: 6 x 5 m, two wall gondolas with four shelves each, four corner cameras. */
export const KIOSK_SPEC: StoreSpec = {
  id: 'kiosk',
  name: 'Walkout kiosk',
  seed: 11,
  floor: [6, 5],
  wallHeightM: 3.3,
  zones: [
    { id: 'entry', kind: 'entry', polygon: rect(3.6, 0, 4.6, 0.8) },
    { id: 'exit', kind: 'exit', polygon: rect(4.8, 0, 5.8, 0.8) },
    { id: 'staff', kind: 'staff-door', polygon: rect(5.2, 4.2, 6, 5) },
    { id: 'floor', kind: 'shopping', polygon: rect(0.6, 0.8, 5.6, 4.4) },
  ],
  gondolas: [
    { footprint: [1.0, 4.4, 3.0, 4.9], facing: '-y', heightM: 1.9, shelfHeightsM: [0.25, 0.65, 1.05, 1.45], platesPerShelf: 4, lanesPerShelf: 6 },
    { footprint: [0.1, 1.4, 0.6, 3.4], facing: '+x', heightM: 1.9, shelfHeightsM: [0.25, 0.65, 1.05, 1.45], platesPerShelf: 4, lanesPerShelf: 6 },
  ],
  // Shoppers at a wall shelf turn their backs to the room, so three cameras hang just in front of
  // the shelves' ends and see them from the side and front while they reach (the one at the end of
  // g1 looks along its front, not across the room, so shoppers there are not at the image's edge);
  // the fourth hangs in the corner across from the gates, so people walking in face it, and sees
  // the shoppers at g1 from the side and at g2 from the front (from the gate corner it saw only
  // their backs, five metres away).
  cameras: [
    { eye: [0.75, 4.3, 3.1], target: [2.6, 2.45, 0.8] },
    { eye: [3.4, 4.3, 3.1], target: [1.5, 3.3, 0.8] },
    { eye: [0.8, 1.0, 3.1], target: [2.0, 3.4, 0.8] },
    { eye: [5.7, 4.6, 3.1], target: [2.6, 1.8, 0.8] },
  ],
  camera: CAMERA_640,
  productCount: 40,
};

/**
 * The kiosk with two shelf cameras added: one on the front top edge of each wall gondola, 2.1 m up,
 * looking out and down across the room. A shopper facing a wall shelf shows every ceiling camera
 * their back or side; the camera over the shelf sees them from in front, steeply from above. The
 * first four cameras are the kiosk's own, so the two stores' figures compare camera by camera
 * (docs/experiments/shelf-cameras.md).
 */
export const KIOSK_SHELF_CAMERAS_SPEC: StoreSpec = {
  ...KIOSK_SPEC,
  id: 'kiosk-shelf-cams',
  name: 'Walkout kiosk with shelf cameras',
  cameras: [
    ...KIOSK_SPEC.cameras,
    { eye: [2.0, 4.35, 2.1], target: [2.0, 2.8, 0.6], kind: 'shelf' },
    { eye: [0.65, 2.4, 2.1], target: [2.2, 2.4, 0.6], kind: 'shelf' },
  ],
};

/** A convenience store: 12 x 9 m, eight gondolas of five shelves, twelve ceiling cameras, 300 products. */
export const CONVENIENCE_SPEC: StoreSpec = {
  id: 'convenience',
  name: 'Walkout convenience store',
  seed: 23,
  floor: [12, 9],
  wallHeightM: 3.3,
  zones: [
    { id: 'entry', kind: 'entry', polygon: rect(0.5, 0, 2.0, 1.0) },
    { id: 'exit', kind: 'exit', polygon: rect(4.0, 0, 5.5, 1.0) },
    { id: 'staff', kind: 'staff-door', polygon: rect(11.0, 7.6, 12, 8.9) },
    { id: 'floor', kind: 'shopping', polygon: rect(0.5, 1.0, 11.4, 8.4) },
  ],
  gondolas: [
    { footprint: [1.0, 8.4, 3.4, 8.9], facing: '-y', heightM: 2.0, shelfHeightsM: [0.2, 0.55, 0.9, 1.25, 1.6], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [4.0, 8.4, 6.4, 8.9], facing: '-y', heightM: 2.0, shelfHeightsM: [0.2, 0.55, 0.9, 1.25, 1.6], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [7.0, 8.4, 9.4, 8.9], facing: '-y', heightM: 2.0, shelfHeightsM: [0.2, 0.55, 0.9, 1.25, 1.6], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [2.0, 5.0, 4.4, 5.45], facing: '-y', heightM: 1.6, shelfHeightsM: [0.2, 0.5, 0.8, 1.1, 1.4], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [2.0, 5.45, 4.4, 5.9], facing: '+y', heightM: 1.6, shelfHeightsM: [0.2, 0.5, 0.8, 1.1, 1.4], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [6.5, 5.0, 8.9, 5.45], facing: '-y', heightM: 1.6, shelfHeightsM: [0.2, 0.5, 0.8, 1.1, 1.4], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [6.5, 5.45, 8.9, 5.9], facing: '+y', heightM: 1.6, shelfHeightsM: [0.2, 0.5, 0.8, 1.1, 1.4], platesPerShelf: 4, lanesPerShelf: 9 },
    { footprint: [11.4, 2.0, 11.9, 4.4], facing: '-x', heightM: 2.0, shelfHeightsM: [0.2, 0.55, 0.9, 1.25, 1.6], platesPerShelf: 4, lanesPerShelf: 9 },
  ],
  cameras: [1.5, 4.5, 7.5, 10.5].flatMap((x) =>
    [1.2, 4.5, 7.6].map((y) => ({ eye: [x, y, 3.1] as Vec3, target: [x + (6 - x) * 0.35, y + (4.5 - y) * 0.35 + 0.8, 0.8] as Vec3 })),
  ),
  camera: CAMERA_640,
  productCount: 300,
};

export const STORE_SPECS = { kiosk: KIOSK_SPEC, 'kiosk-shelf-cams': KIOSK_SHELF_CAMERAS_SPEC, convenience: CONVENIENCE_SPEC } as const;

/** The committed form of a store: two-space JSON with a trailing newline, so diffs stay readable. */
export function storeToJson(store: Store): string {
  return `${JSON.stringify(store, null, 2)}\n`;
}
