import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  parseStore,
  SCHEMA_VERSION,
  WalkoutError,
  type ActionTruth,
  type Gondola,
  type LoadCell,
  type Placement,
  type Product,
  type Store,
} from '../contracts/index.ts';
import { readLines, RecordingWriter } from '../recording/index.ts';

/**
 * Imports the load-cell layout of public cashierless datasets into a walkout recording, so anyone with
 * such data can evaluate shelf perception on it:
 *
 * - one CSV per plate, `gondola_{g}_shelf_{s}_plate_{p}.csv`, rows `unix_seconds,grams`;
 * - a product CSV `name,gondola,shelf,plate,weight,price` (one row per product and plate it sits on);
 * - optionally a ground-truth CSV `unix_seconds,gondola,shelf,plates,product,quantity_delta`, plates
 *   separated by `;`, negative quantity for a pick.
 *
 * The store is synthesised around them: a gondola per gondola number, a shelf per shelf, a plate per
 * plate file, and a lane per product on its plate. Plates of one shelf are put on one clock (the first
 * plate's timestamps; the others give their nearest reading). Bad rows are reported with file and line and skipped;
 * every good row is kept and written.
 */

const PLATE_FILE = /^gondola_(\d+)_shelf_(\d+)_plate_(\d+)\.csv$/;
const PLATE_WIDTH_M = 0.3;
const SHELF_GAP_M = 0.4;
const GONDOLA_GAP_M = 2;
const DEFAULT_RATE_HZ = 60;
/** Imported cells: capacity is not in the data; readings stay well below this. */
const CAPACITY_GRAMS = 100_000;
/** Counts on the shelves are unknown: the inventory model starts from a generous guess. */
const UNKNOWN_STOCK = 50;
const MAX_ISSUES_KEPT = 200;

export interface ImportIssue {
  file: string;
  line: number;
  message: string;
}

export interface PlatesImportReport {
  out: string;
  storeId: string;
  gondolas: number;
  shelves: number;
  plates: number;
  products: number;
  ticks: number;
  rowsAccepted: number;
  rowsRejected: number;
  actions: number;
  startMs: number;
  endMs: number;
  issues: ImportIssue[];
}

interface PlateSeries {
  g: number;
  s: number;
  p: number;
  file: string;
  ts: number[];
  grams: number[];
}

const ids = {
  gondola: (g: number) => `g${g}`,
  shelf: (g: number, s: number) => `g${g}-s${s}`,
  plate: (g: number, s: number, p: number) => `g${g}-s${s}-p${p}`,
  cell: (g: number, s: number, p: number) => `lc-g${g}-s${s}-p${p}`,
};

/** Splits a CSV line (no quoted commas in these files, but quoted names are unwrapped). */
function cells(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

async function* csvRows(file: string, issues: ImportIssue[], expected: string[]): AsyncGenerator<{ line: number; cols: string[] }> {
  let first = true;
  for await (const [line, text] of readLines(file)) {
    if (text.trim() === '') continue;
    const cols = cells(text);
    if (first) {
      first = false;
      // A header row is optional; when present it must name the expected columns.
      if (Number.isNaN(Number(cols[0]))) {
        const header = cols.map((c) => c.toLowerCase());
        if (expected.some((name, i) => header[i] !== name))
          issues.push({ file, line, message: `header should be "${expected.join(',')}", found "${cols.join(',')}"` });
        continue;
      }
    }
    yield { line, cols };
  }
}

const ean13 = (n: number) => {
  const twelve = `200${String(n).padStart(9, '0')}`;
  const sum = [...twelve].reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return twelve + String((10 - (sum % 10)) % 10);
};

export async function importPlates(opts: {
  folder: string;
  productsCsv: string;
  truthCsv?: string;
  out: string;
  storeId?: string;
  onFile?: (file: string) => void;
}): Promise<PlatesImportReport> {
  const issues: ImportIssue[] = [];
  const note = (issue: ImportIssue) => {
    if (issues.length < MAX_ISSUES_KEPT) issues.push(issue);
  };
  let rowsAccepted = 0;
  let rowsRejected = 0;

  let names: string[];
  try {
    names = await readdir(opts.folder);
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `cannot read folder ${opts.folder}: ${(cause as Error).message}`, { cause });
  }
  const plateFiles = names.filter((n) => PLATE_FILE.test(n)).sort();
  if (plateFiles.length === 0)
    throw new WalkoutError('RECORDING_INVALID', `${opts.folder} holds no gondola_{g}_shelf_{s}_plate_{p}.csv files`);

  // Load-cell series, one per plate.
  const series: PlateSeries[] = [];
  for (const name of plateFiles) {
    const [, g, s, p] = PLATE_FILE.exec(name)!.map(Number);
    const file = path.join(opts.folder, name);
    opts.onFile?.(file);
    const one: PlateSeries = { g, s, p, file, ts: [], grams: [] };
    let last = -Infinity;
    for await (const { line, cols } of csvRows(file, issues, ['unix_seconds', 'grams'])) {
      const seconds = Number(cols[0]);
      const grams = Number(cols[1]);
      let problem: string | undefined;
      if (cols.length !== 2) problem = `expected 2 columns (unix_seconds,grams), found ${cols.length}`;
      else if (cols[0] === '' || !Number.isFinite(seconds) || seconds < 0) problem = `unix_seconds is not a time: "${cols[0]}"`;
      else if (cols[1] === '' || !Number.isFinite(grams)) problem = `grams is not a number: "${cols[1]}"`;
      else if (seconds * 1000 < last) problem = `time goes backwards (${seconds} after ${last / 1000})`;
      if (problem) {
        rowsRejected++;
        note({ file, line, message: problem });
        continue;
      }
      last = seconds * 1000;
      one.ts.push(last);
      one.grams.push(grams);
      rowsAccepted++;
    }
    if (one.ts.length > 0) series.push(one);
    else note({ file, line: 1, message: 'no readable rows: the plate is left out' });
  }
  if (series.length === 0) throw new WalkoutError('RECORDING_INVALID', `no plate file in ${opts.folder} has a readable row`);

  // Products, each on its plate.
  const products: Product[] = [];
  const productByName = new Map<string, Product>();
  const lanesOfPlate = new Map<string, Array<{ product: Product }>>();
  for await (const { line, cols } of csvRows(opts.productsCsv, issues, ['name', 'gondola', 'shelf', 'plate', 'weight', 'price'])) {
    const [name, g, s, p, weight, price] = [cols[0], Number(cols[1]), Number(cols[2]), Number(cols[3]), Number(cols[4]), Number(cols[5])];
    let problem: string | undefined;
    if (cols.length !== 6) problem = `expected 6 columns (name,gondola,shelf,plate,weight,price), found ${cols.length}`;
    else if (!name) problem = 'the product has no name';
    else if (![g, s, p].every((v) => Number.isInteger(v) && v >= 0)) problem = `gondola, shelf and plate must be whole numbers, found ${cols.slice(1, 4).join(',')}`;
    else if (!(weight > 0)) problem = `weight must be a positive number of grams, found "${cols[4]}"`;
    else if (!(price >= 0)) problem = `price must be a number, found "${cols[5]}"`;
    else if (!series.some((x) => x.g === g && x.s === s && x.p === p)) problem = `no load-cell file for gondola ${g} shelf ${s} plate ${p}`;
    if (problem) {
      note({ file: opts.productsCsv, line, message: problem });
      continue;
    }
    let product = productByName.get(name);
    if (!product) {
      const n = products.length + 1;
      product = {
        id: `p-${String(n).padStart(4, '0')}`,
        name,
        barcode: ean13(n),
        priceCents: Math.round(price * 100),
        unitWeightGrams: weight,
        weightSpreadGrams: Math.max(1, Math.round(weight * 0.02 * 10) / 10),
        ageRestricted: false,
        sizeM: [0.08, 0.08, 0.15],
        colour: `#${((n * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(0, 6)}`,
      };
      products.push(product);
      productByName.set(name, product);
    }
    const key = ids.plate(g, s, p);
    lanesOfPlate.set(key, [...(lanesOfPlate.get(key) ?? []), { product }]);
  }
  if (products.length === 0) throw new WalkoutError('RECORDING_INVALID', `${opts.productsCsv} names no usable product`);

  // The synthesised store.
  const rate = estimateRate(series[0].ts);
  const gondolaNumbers = [...new Set(series.map((x) => x.g))].sort((a, b) => a - b);
  const gondolas: Gondola[] = [];
  const placements: Placement[] = [];
  const loadCells: LoadCell[] = [];
  let maxX = 1;
  gondolaNumbers.forEach((g, gi) => {
    const shelfNumbers = [...new Set(series.filter((x) => x.g === g).map((x) => x.s))].sort((a, b) => a - b);
    const plateNumbers = [...new Set(series.filter((x) => x.g === g).map((x) => x.p))].sort((a, b) => a - b);
    const x0 = 1;
    const y0 = 1 + gi * GONDOLA_GAP_M;
    const width = plateNumbers.length * PLATE_WIDTH_M;
    const height = shelfNumbers.length * SHELF_GAP_M + 0.5;
    maxX = Math.max(maxX, x0 + width + 1);
    const shelves = shelfNumbers.map((s, si) => {
      const z = 0.2 + si * SHELF_GAP_M;
      const platesHere = series.filter((x) => x.g === g && x.s === s).sort((a, b) => a.p - b.p);
      const plates = platesHere.map((x) => {
        const pi = plateNumbers.indexOf(x.p);
        return { id: ids.plate(g, s, x.p), box: { min: [x0 + pi * PLATE_WIDTH_M, y0, z - 0.01] as [number, number, number], max: [x0 + (pi + 1) * PLATE_WIDTH_M, y0 + 0.4, z] as [number, number, number] } };
      });
      const lanes = plates.flatMap((plate) => {
        const here = lanesOfPlate.get(plate.id) ?? [];
        const span = (plate.box.max[0] - plate.box.min[0]) / Math.max(1, here.length);
        return here.map(({ product }, li) => {
          const laneId = `${plate.id}-l${li + 1}`;
          placements.push({ laneId, productId: product.id, capacity: 99, initialStock: UNKNOWN_STOCK });
          return {
            id: laneId,
            plateIds: [plate.id],
            box: {
              min: [plate.box.min[0] + li * span + 0.001, y0 + 0.001, z] as [number, number, number],
              max: [plate.box.min[0] + (li + 1) * span - 0.001, y0 + 0.399, z + 0.3] as [number, number, number],
            },
          };
        });
      });
      for (const x of platesHere)
        loadCells.push({
          id: ids.cell(g, s, x.p),
          plateId: ids.plate(g, s, x.p),
          sampleRateHz: rate,
          noiseGrams: estimateNoise(x.grams),
          capacityGrams: CAPACITY_GRAMS,
        });
      return { id: ids.shelf(g, s), surfaceHeightM: z, plates, lanes };
    });
    // A shelf needs at least one lane: plates without products still carry one empty lane.
    for (const shelf of shelves)
      if (shelf.lanes.length === 0)
        shelf.lanes.push({ id: `${shelf.id}-l0`, plateIds: [shelf.plates[0].id], box: { min: [shelf.plates[0].box.min[0], y0 + 0.001, shelf.surfaceHeightM], max: [shelf.plates[0].box.max[0], y0 + 0.399, shelf.surfaceHeightM + 0.3] } });
    gondolas.push({ id: ids.gondola(g), box: { min: [x0, y0, 0], max: [x0 + width, y0 + 0.4, height] }, facing: '-y', shelves });
  });
  const floorY = 2 + gondolaNumbers.length * GONDOLA_GAP_M;
  const rect = (a: number, b: number, c: number, d: number): Array<[number, number]> => [[a, b], [c, b], [c, d], [a, d]];
  const storeId = opts.storeId ?? 'imported';
  const store: Store = parseStore(
    {
      schemaVersion: SCHEMA_VERSION,
      id: storeId,
      name: `Imported from ${path.basename(path.resolve(opts.folder))} (layout synthesised from plate numbers)`,
      currency: 'USD',
      layout: {
        floor: rect(0, 0, maxX, floorY),
        wallHeightM: 3,
        zones: [
          { id: 'entry', kind: 'entry', polygon: rect(0.1, 0, 0.6, 0.5) },
          { id: 'exit', kind: 'exit', polygon: rect(0.7, 0, 1.2, 0.5) },
          { id: 'floor', kind: 'shopping', polygon: rect(0.1, 0.5, maxX - 0.1, floorY - 0.1) },
        ],
        gondolas,
      },
      planogram: { products, placements },
      cameras: [], // shelf data alone: no cameras
      loadCells,
      gates: [
        { id: 'gate-entry', zoneId: 'entry', kind: 'entry' },
        { id: 'gate-exit', zoneId: 'exit', kind: 'exit' },
      ],
    },
    `store synthesised from ${opts.folder}`,
  );

  // Samples, shelf by shelf, on one clock per shelf.
  const writer = await RecordingWriter.create(opts.out, store, { kind: 'import', detail: `walkout import plates ${opts.folder}` });
  let ticks = 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const gondola of gondolas)
    for (const shelf of gondola.shelves) {
      const platesHere = shelf.plates.map((plate) => series.find((x) => ids.plate(x.g, x.s, x.p) === plate.id)!);
      const from = Math.max(...platesHere.map((x) => x.ts[0]));
      const to = Math.min(...platesHere.map((x) => x.ts[x.ts.length - 1]));
      if (!(to >= from)) {
        note({ file: platesHere[0].file, line: 1, message: `plates of shelf ${shelf.id} share no common time span: shelf left out` });
        continue;
      }
      const out = writer.loadCells(shelf.id, shelf.plates.map((p) => store.loadCells.find((c) => c.plateId === p.id)!.id), rate);
      // One controller samples a shelf's plates together: the first plate's own timestamps are the
      // shelf's clock, and every other plate gives its reading nearest in time (never a repeat made
      // up by a fixed grid, which would fake a quieter cell).
      const clock = platesHere[0];
      const cursor = platesHere.map(() => 0);
      const row = new Float64Array(platesHere.length);
      for (const t of clock.ts) {
        if (t < from || t > to) continue;
        platesHere.forEach((x, j) => {
          while (cursor[j] + 1 < x.ts.length && Math.abs(x.ts[cursor[j] + 1] - t) <= Math.abs(x.ts[cursor[j]] - t)) cursor[j]++;
          row[j] = x.grams[cursor[j]];
        });
        const ts = Math.round(t);
        out.write(ts, row);
        ticks++;
        startMs = Math.min(startMs, ts);
        endMs = Math.max(endMs, ts);
        if (ticks % 100_000 === 0) await writer.settle();
      }
    }

  // Ground truth.
  let actions = 0;
  if (opts.truthCsv) {
    for await (const { line, cols } of csvRows(opts.truthCsv, issues, ['unix_seconds', 'gondola', 'shelf', 'plates', 'product', 'quantity_delta'])) {
      const [seconds, g, s, platesText, name, delta] = [Number(cols[0]), Number(cols[1]), Number(cols[2]), cols[3], cols[4], Number(cols[5])];
      const plateNumbers = (platesText ?? '').split(';').map((v) => Number(v.trim()));
      const product = productByName.get(name ?? '');
      const shelfId = ids.shelf(g, s);
      const shelf = gondolas.flatMap((x) => x.shelves).find((x) => x.id === shelfId);
      let problem: string | undefined;
      if (cols.length !== 6) problem = `expected 6 columns (unix_seconds,gondola,shelf,plates,product,quantity_delta), found ${cols.length}`;
      else if (!Number.isFinite(seconds) || seconds < 0) problem = `unix_seconds is not a time: "${cols[0]}"`;
      else if (!shelf) problem = `no plates were imported for gondola ${cols[1]} shelf ${cols[2]}`;
      else if (!plateNumbers.every((p) => Number.isInteger(p) && shelf.plates.some((x) => x.id === ids.plate(g, s, p)))) problem = `plates "${platesText}" are not plates of shelf ${shelfId}`;
      else if (!product) problem = `unknown product "${name}" (not in ${opts.productsCsv})`;
      else if (!Number.isInteger(delta) || delta === 0) problem = `quantity_delta must be a non-zero whole number, found "${cols[5]}"`;
      if (problem || !shelf || !product) {
        note({ file: opts.truthCsv, line, message: problem ?? 'unreadable row' });
        continue;
      }
      const plateIds = plateNumbers.map((p) => ids.plate(g, s, p));
      const lane = shelf.lanes.find((l) => plateIds.includes(l.plateIds[0]) && placements.find((pl) => pl.laneId === l.id)?.productId === product.id) ??
        shelf.lanes.find((l) => plateIds.includes(l.plateIds[0]));
      const ms = Math.round(seconds * 1000);
      const action: ActionTruth = {
        actionId: `a-${++actions}`,
        kind: delta < 0 ? 'pick' : 'put',
        startMs: ms,
        endMs: ms,
        productId: product.id,
        quantity: Math.abs(delta),
        shelfId,
        plateIds,
        ...(lane ? { laneId: lane.id } : {}),
      };
      writer.truth.actions.write(action);
    }
  }
  if (ticks === 0) throw new WalkoutError('RECORDING_INVALID', `no shelf of ${opts.folder} has samples on a common clock`);
  await writer.close({ startMs, endMs });
  return {
    out: opts.out,
    storeId,
    gondolas: gondolas.length,
    shelves: gondolas.reduce((n, g) => n + g.shelves.length, 0),
    plates: series.length,
    products: products.length,
    ticks,
    rowsAccepted,
    rowsRejected,
    actions,
    startMs,
    endMs,
    issues,
  };
}

/** The sample rate from the gaps between readings, rounded to a whole number of hertz. */
function estimateRate(ts: number[]): number {
  if (ts.length < 3) return DEFAULT_RATE_HZ;
  const gaps = ts.slice(1, Math.min(ts.length, 2_001)).map((t, i) => t - ts[i]).filter((g) => g > 0).sort((a, b) => a - b);
  if (gaps.length === 0) return DEFAULT_RATE_HZ;
  // Mean of the ordinary gaps (timestamps are often rounded to whole ms), ignoring outages.
  const median = gaps[gaps.length >> 1];
  const ordinary = gaps.filter((g) => g <= 3 * median);
  const hz = Math.round((1000 * ordinary.length) / ordinary.reduce((s, g) => s + g, 0));
  return Math.min(2000, Math.max(1, hz));
}

/** Resting noise from the median absolute difference of consecutive readings, grams. */
function estimateNoise(grams: number[]): number {
  const diffs = grams.slice(1, Math.min(grams.length, 20_001)).map((g, i) => Math.abs(g - grams[i])).sort((a, b) => a - b);
  if (diffs.length === 0) return 1;
  const sigma = diffs[diffs.length >> 1] / (0.6745 * Math.SQRT2);
  return Math.round(Math.max(0.3, sigma) * 100) / 100;
}
