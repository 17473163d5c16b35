import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  parseStore,
  SCHEMA_VERSION,
  WalkoutError,
  type ActionTruth,
  type Gondola,
  type Lane,
  type LoadCell,
  type Placement,
  type Plate,
  type Product,
  type Store,
} from '../contracts/index.ts';
import { RecordingWriter, type LoadCellStreamWriter } from '../recording/index.ts';
import {
  csvRows,
  numberField,
  readPlateCsv,
  wrongTimeUnit,
  type ImportIssue,
  type PlateFileCounts,
  type PlateReading,
  type ReportIssue,
} from './plate-csv.reader.ts';
import { MEDIAN_ABS_DIFF_TO_SIGMA, NOISE_FLOOR_GRAMS } from './sensor.health.ts';

export type { ImportIssue } from './plate-csv.reader.ts';

/**
 * Imports the load-cell layout of public cashierless datasets into a walkout recording, so anyone with
 * such data can evaluate shelf perception on it:
 *
 * - one CSV per plate, `gondola_{g}_shelf_{s}_plate_{p}.csv`, rows `unix_seconds,grams` (read by
 *   plate-csv.reader.ts: small steps back in time put in order, bad rows named by file and line);
 * - a product CSV `name,gondola,shelf,plate,weight,price` (one row per product and plate it sits on);
 * - optionally a ground-truth CSV `unix_seconds,gondola,shelf,plates,product,quantity_delta`, plates
 *   separated by `;`, negative quantity for a pick.
 *
 * The store is synthesised around them: a gondola per gondola number, a shelf per shelf, a plate per
 * plate file, and a lane per product on its plate. Plates of one shelf are put on one clock (the first
 * plate's timestamps; the others give their nearest reading). Every file is streamed: the plate files
 * are read twice (once to learn each plate's span, rate and noise, which the store must hold before
 * any sample is written; once to write the samples), never held whole in memory. Problems are errors
 * (the row is left out) or warnings (the row is kept or put right, and the report says how).
 */

const PLATE_FILE = /^gondola_(\d+)_shelf_(\d+)_plate_(\d+)\.csv$/;
const PRODUCT_COLUMNS = ['name', 'gondola', 'shelf', 'plate', 'weight', 'price'];
const TRUTH_COLUMNS = ['unix_seconds', 'gondola', 'shelf', 'plates', 'product', 'quantity_delta'];
const PLATE_WIDTH_M = 0.3;
const PLATE_DEPTH_M = 0.4;
const SHELF_GAP_M = 0.4;
const GONDOLA_GAP_M = 2;
export const DEFAULT_RATE_HZ = 60;
/** Imported cells: capacity is not in the data; readings stay well below this. */
export const CAPACITY_GRAMS = 100_000;
/** Counts on the shelves are unknown: the inventory model starts from a generous guess. */
export const UNKNOWN_STOCK = 50;
/** A product's weight spread is not in the data: a share of its weight, at least a gram. */
const WEIGHT_SPREAD_SHARE = 0.02;
const MAX_ISSUES_KEPT = 200;
/** Gaps between a plate's first readings that give its sample rate. */
const RATE_GAPS = 2_000;
/** A plate's first readings whose steps give its resting noise. */
const NOISE_READINGS = 20_000;
/** Ticks written between waits for the disk to take them. */
const SETTLE_EVERY_TICKS = 100_000;

export interface PlatesImportReport {
  storeId: string;
  gondolas: number;
  shelves: number;
  plates: number;
  products: number;
  ticks: number;
  rowsAccepted: number;
  rowsRejected: number;
  /** Plate readings that stepped back a few ms and were put in order (a warning per file). */
  rowsReordered: number;
  actions: number;
  startMs: number;
  endMs: number;
  errors: number;
  warnings: number;
  /** The first error found (also when the kept issues are all warnings). */
  firstError?: ImportIssue;
  /** The first MAX_ISSUES_KEPT problems, in the order found; `errors` and `warnings` count them all. */
  issues: ImportIssue[];
}

export interface PlateFile {
  gondola: number;
  shelf: number;
  plate: number;
  file: string;
}

/** What the first reading of a plate file tells: enough to describe its cell before writing samples. */
export interface PlateSurvey extends PlateFile {
  firstMs: number;
  lastMs: number;
  rateHz: number;
  noiseGrams: number;
}

export interface ImportedProducts {
  products: Product[];
  byName: Map<string, Product>;
  /** Products on each plate, by plate id, in the order listed. */
  onPlate: Map<string, Product[]>;
}

export const ids = {
  gondola: (gondola: number) => `g${gondola}`,
  shelf: (gondola: number, shelf: number) => `g${gondola}-s${shelf}`,
  plate: (gondola: number, shelf: number, plate: number) => `g${gondola}-s${shelf}-p${plate}`,
  cell: (gondola: number, shelf: number, plate: number) => `lc-g${gondola}-s${shelf}-p${plate}`,
};
export const plateIdOf = (plate: PlateFile) => ids.plate(plate.gondola, plate.shelf, plate.plate);

/** Every problem found, the first MAX_ISSUES_KEPT of them kept for the report, all of them counted. */
export class IssueLog {
  readonly issues: ImportIssue[] = [];
  errors = 0;
  warnings = 0;
  firstError: ImportIssue | undefined;
  readonly report: ReportIssue = (issue) => {
    if (issue.severity === 'error') {
      this.errors++;
      this.firstError ??= issue;
    } else this.warnings++;
    if (this.issues.length < MAX_ISSUES_KEPT) this.issues.push(issue);
  };
}

const ignoreIssues: ReportIssue = () => {};
export const noCounts = (): PlateFileCounts => ({ accepted: 0, rejected: 0, reordered: 0 });

export async function importPlates(opts: {
  folder: string;
  productsCsv: string;
  truthCsv?: string;
  out: string;
  storeId?: string;
  onFile?: (file: string) => void;
}): Promise<PlatesImportReport> {
  const log = new IssueLog();
  const counts = noCounts();
  const plateFiles = await listPlateFiles(opts.folder, log.report);
  const surveys: PlateSurvey[] = [];
  for (const plateFile of plateFiles) {
    opts.onFile?.(plateFile.file);
    const survey = await surveyPlate(plateFile, log.report, counts);
    if (survey) surveys.push(survey);
  }
  if (surveys.length === 0) throw new WalkoutError('RECORDING_INVALID', `no plate file in ${opts.folder} has a readable row`);

  const products = await readProducts(
    opts.productsCsv,
    (gondola, shelf, plate) =>
      surveys.some((s) => s.gondola === gondola && s.shelf === shelf && s.plate === plate)
        ? undefined
        : `no load cell was imported for gondola ${gondola} shelf ${shelf} plate ${plate} (no file for it, or none of its rows could be read)`,
    log.report,
  );
  const storeId = opts.storeId ?? 'imported';
  const store = synthesiseStore(opts.folder, storeId, surveys, products);
  const writer = await RecordingWriter.create(opts.out, store, { kind: 'import', detail: `walkout import plates ${opts.folder}` });
  const span = await writeShelfSamples(writer, store, surveys, log.report);
  if (span.ticks === 0) throw new WalkoutError('RECORDING_INVALID', `no shelf of ${opts.folder} has samples on a common clock`);
  const actions = opts.truthCsv ? await writeTruth(writer, opts.truthCsv, opts.productsCsv, store, products, span, log.report) : 0;
  await writer.close({ startMs: span.startMs, endMs: span.endMs });
  return {
    storeId,
    gondolas: store.layout.gondolas.length,
    shelves: store.layout.gondolas.reduce((n, gondola) => n + gondola.shelves.length, 0),
    plates: surveys.length,
    products: products.products.length,
    ticks: span.ticks,
    rowsAccepted: counts.accepted,
    rowsRejected: counts.rejected,
    rowsReordered: counts.reordered,
    actions,
    startMs: span.startMs,
    endMs: span.endMs,
    errors: log.errors,
    warnings: log.warnings,
    ...(log.firstError ? { firstError: log.firstError } : {}),
    issues: log.issues,
  };
}

/** The plate files of the folder in gondola, shelf and plate order; two files of one plate are an error. */
export async function listPlateFiles(folder: string, report: ReportIssue): Promise<PlateFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `cannot read folder ${folder}: ${(cause as Error).message}`, { cause });
  }
  const plates: PlateFile[] = [];
  for (const name of names.sort()) {
    const match = PLATE_FILE.exec(name);
    if (!match) continue;
    const [gondola, shelf, plate] = match.slice(1).map(Number);
    const file = path.join(folder, name);
    const twin = plates.find((other) => other.gondola === gondola && other.shelf === shelf && other.plate === plate);
    if (twin) report({ file, line: 1, severity: 'error', message: `a second file for gondola ${gondola} shelf ${shelf} plate ${plate} (after ${twin.file}): left out` });
    else plates.push({ gondola, shelf, plate, file });
  }
  if (plates.length === 0) throw new WalkoutError('RECORDING_INVALID', `${folder} holds no gondola_{g}_shelf_{s}_plate_{p}.csv files`);
  return plates.sort((a, b) => a.gondola - b.gondola || a.shelf - b.shelf || a.plate - b.plate);
}

/** First reading of a plate file: its span, sample rate and resting noise, every problem reported. */
export async function surveyPlate(plateFile: PlateFile, report: ReportIssue, counts: PlateFileCounts): Promise<PlateSurvey | undefined> {
  let firstMs = Number.NaN;
  let lastMs = Number.NaN;
  let previous: PlateReading | undefined;
  const gaps: number[] = [];
  const steps: number[] = [];
  for await (const reading of readPlateCsv(plateFile.file, report, counts)) {
    if (previous) {
      if (gaps.length < RATE_GAPS) gaps.push(reading.ms - previous.ms);
      if (steps.length < NOISE_READINGS) steps.push(Math.abs(reading.grams - previous.grams));
    } else firstMs = reading.ms;
    lastMs = reading.ms;
    previous = reading;
  }
  if (!previous) {
    report({ file: plateFile.file, line: 1, severity: 'error', message: 'no readable rows: the plate is left out' });
    return undefined;
  }
  return { ...plateFile, firstMs, lastMs, rateHz: estimateRate(gaps), noiseGrams: estimateNoise(steps) };
}

interface ProductRow {
  name: string;
  plateId: string;
  weight: number;
  /** Undefined when the price field is empty. */
  price: number | undefined;
}

/** Why a product cannot stand on this plate (the plate is not in the store), or undefined when it can. */
export type PlateProblem = (gondola: number, shelf: number, plate: number) => string | undefined;

/** One row of the products list, or what is wrong with it. */
function parseProductRow(fields: string[], plateProblem: PlateProblem): ProductRow | string {
  if (fields.length !== PRODUCT_COLUMNS.length) return `expected ${PRODUCT_COLUMNS.length} columns (${PRODUCT_COLUMNS.join(',')}), found ${fields.length}`;
  const [name, gondolaText, shelfText, plateText, weightText, priceText] = fields;
  const [gondola, shelf, plate, weight] = [gondolaText, shelfText, plateText, weightText].map(numberField);
  const price = priceText === '' ? undefined : numberField(priceText);
  if (!name) return 'the product has no name';
  if (![gondola, shelf, plate].every((n) => Number.isInteger(n) && n >= 0)) return `gondola, shelf and plate must be whole numbers, found "${fields.slice(1, 4).join(',')}"`;
  if (!(weight > 0)) return `weight must be a positive number of grams, found "${weightText}"`;
  if (price !== undefined && !(price >= 0)) return `price must be a number, found "${priceText}"`;
  const unknownPlate = plateProblem(gondola, shelf, plate);
  if (unknownPlate) return unknownPlate;
  return { name, plateId: ids.plate(gondola, shelf, plate), weight, price };
}

/**
 * The products list: one product per name, on every plate it is listed for. A name listed again
 * with another weight or price is an error (which one would be right?); an empty price is a warning
 * (the product comes in at 0, and the report says it is unknown).
 */
export async function readProducts(productsCsv: string, plateProblem: PlateProblem, report: ReportIssue): Promise<ImportedProducts> {
  const imported: ImportedProducts = { products: [], byName: new Map(), onPlate: new Map() };
  const firstListing = new Map<string, { line: number; weight: number; price: number | undefined }>();
  for await (const { line, fields } of csvRows(productsCsv, PRODUCT_COLUMNS, report, { firstIsNumber: false })) {
    const problem = (message: string, severity: ImportIssue['severity'] = 'error') => report({ file: productsCsv, line, severity, message });
    const row = parseProductRow(fields, plateProblem);
    if (typeof row === 'string') {
      problem(row);
      continue;
    }
    const first = firstListing.get(row.name);
    if (first && first.weight !== row.weight) {
      problem(`"${row.name}" weighs ${row.weight} g here but ${first.weight} g at line ${first.line}: one product, one weight (this row is left out)`);
      continue;
    }
    if (first && row.price !== undefined && first.price !== undefined && first.price !== row.price) {
      problem(`"${row.name}" costs ${row.price} here but ${first.price} at line ${first.line}: one product, one price (this row is left out)`);
      continue;
    }
    let product = imported.byName.get(row.name);
    if (!product) {
      product = newProduct(row.name, imported.products.length + 1, row.weight, row.price ?? 0);
      imported.products.push(product);
      imported.byName.set(row.name, product);
      firstListing.set(row.name, { line, weight: row.weight, price: row.price });
    } else if (first && first.price === undefined && row.price !== undefined) {
      product.priceCents = Math.round(row.price * 100);
      first.price = row.price;
    }
    const onPlate = imported.onPlate.get(row.plateId) ?? [];
    if (onPlate.includes(product)) {
      problem(`"${row.name}" is listed for plate ${row.plateId} again: the first listing stands`, 'warning');
      continue;
    }
    if (firstListing.get(row.name)!.price === undefined)
      problem(`"${row.name}" has no price: imported at 0 (unknown), so any charge for it would be wrong until it is set`, 'warning');
    imported.onPlate.set(row.plateId, [...onPlate, product]);
  }
  if (imported.products.length === 0) throw new WalkoutError('RECORDING_INVALID', `${productsCsv} names no usable product`);
  return imported;
}

const ean13 = (serial: number) => {
  const twelve = `200${String(serial).padStart(9, '0')}`;
  const sum = [...twelve].reduce((total, digit, i) => total + Number(digit) * (i % 2 === 0 ? 1 : 3), 0);
  return twelve + String((10 - (sum % 10)) % 10);
};

function newProduct(name: string, serial: number, weightGrams: number, price: number): Product {
  return {
    id: `p-${String(serial).padStart(4, '0')}`,
    name,
    barcode: ean13(serial),
    priceCents: Math.round(price * 100),
    unitWeightGrams: weightGrams,
    weightSpreadGrams: Math.max(1, Math.round(weightGrams * WEIGHT_SPREAD_SHARE * 10) / 10),
    ageRestricted: false,
    sizeM: [0.08, 0.08, 0.15],
    colour: `#${((serial * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(0, 6)}`,
  };
}

/** A store around the plates: gondolas in a row along y, shelves stacked, plates side by side. */
function synthesiseStore(folder: string, storeId: string, surveys: PlateSurvey[], products: ImportedProducts): Store {
  const gondolaNumbers = [...new Set(surveys.map((s) => s.gondola))].sort((a, b) => a - b);
  const placements: Placement[] = [];
  const gondolas = gondolaNumbers.map((gondola, order) => synthesiseGondola(gondola, order, surveys, products, placements));
  const loadCells: LoadCell[] = surveys.map((s) => ({
    id: ids.cell(s.gondola, s.shelf, s.plate),
    plateId: plateIdOf(s),
    sampleRateHz: s.rateHz,
    noiseGrams: s.noiseGrams,
    capacityGrams: CAPACITY_GRAMS,
  }));
  const maxX = Math.max(1, ...gondolas.map((gondola) => gondola.box.max[0] + 1));
  const floorY = 2 + gondolaNumbers.length * GONDOLA_GAP_M;
  const rect = (x0: number, y0: number, x1: number, y1: number): Array<[number, number]> => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  return parseStore(
    {
      schemaVersion: SCHEMA_VERSION,
      id: storeId,
      name: `Imported from ${path.basename(path.resolve(folder))} (layout synthesised from plate numbers)`,
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
      planogram: { products: products.products, placements },
      cameras: [], // shelf data alone: no cameras
      loadCells,
      gates: [
        { id: 'gate-entry', zoneId: 'entry', kind: 'entry' },
        { id: 'gate-exit', zoneId: 'exit', kind: 'exit' },
      ],
    },
    `store synthesised from ${folder}`,
  );
}

function synthesiseGondola(gondola: number, order: number, surveys: PlateSurvey[], products: ImportedProducts, placements: Placement[]): Gondola {
  const mine = surveys.filter((s) => s.gondola === gondola);
  const shelfNumbers = [...new Set(mine.map((s) => s.shelf))].sort((a, b) => a - b);
  const plateNumbers = [...new Set(mine.map((s) => s.plate))].sort((a, b) => a - b);
  const x0 = 1;
  const y0 = 1 + order * GONDOLA_GAP_M;
  const width = plateNumbers.length * PLATE_WIDTH_M;
  const shelves = shelfNumbers.map((shelf, level) => {
    const z = 0.2 + level * SHELF_GAP_M;
    const plates: Plate[] = mine
      .filter((s) => s.shelf === shelf)
      .map((s) => {
        const column = plateNumbers.indexOf(s.plate);
        return { id: plateIdOf(s), box: { min: [x0 + column * PLATE_WIDTH_M, y0, z - 0.01], max: [x0 + (column + 1) * PLATE_WIDTH_M, y0 + PLATE_DEPTH_M, z] } };
      });
    const lanes: Lane[] = plates.flatMap((plate) => {
      const here = products.onPlate.get(plate.id) ?? [];
      const span = (plate.box.max[0] - plate.box.min[0]) / Math.max(1, here.length);
      return here.map((product, slot) => {
        const laneId = `${plate.id}-l${slot + 1}`;
        placements.push({ laneId, productId: product.id, capacity: 99, initialStock: UNKNOWN_STOCK });
        return {
          id: laneId,
          plateIds: [plate.id],
          box: {
            min: [plate.box.min[0] + slot * span + 0.001, y0 + 0.001, z],
            max: [plate.box.min[0] + (slot + 1) * span - 0.001, y0 + PLATE_DEPTH_M - 0.001, z + 0.3],
          },
        };
      });
    });
    // A shelf needs at least one lane: a shelf without products carries one empty lane.
    if (lanes.length === 0)
      lanes.push({
        id: `${ids.shelf(gondola, shelf)}-l0`,
        plateIds: [plates[0].id],
        box: { min: [plates[0].box.min[0], y0 + 0.001, z], max: [plates[0].box.max[0], y0 + PLATE_DEPTH_M - 0.001, z + 0.3] },
      });
    return { id: ids.shelf(gondola, shelf), surfaceHeightM: z, plates, lanes };
  });
  const height = shelfNumbers.length * SHELF_GAP_M + 0.5;
  return { id: ids.gondola(gondola), box: { min: [x0, y0, 0], max: [x0 + width, y0 + PLATE_DEPTH_M, height] }, facing: '-y', shelves };
}

/** The reading of one plate nearest in time to each tick of the shelf's clock, read as the clock goes. */
class NearestReading {
  private current: PlateReading | undefined;
  private next: PlateReading | undefined;

  private constructor(private readonly readings: AsyncGenerator<PlateReading>) {}

  static async open(readings: AsyncGenerator<PlateReading>): Promise<NearestReading> {
    const nearest = new NearestReading(readings);
    nearest.current = (await readings.next()).value ?? undefined;
    nearest.next = (await readings.next()).value ?? undefined;
    return nearest;
  }

  async gramsAt(ms: number): Promise<number> {
    while (this.next && Math.abs(this.next.ms - ms) <= Math.abs(this.current!.ms - ms)) {
      this.current = this.next;
      this.next = (await this.readings.next()).value ?? undefined;
    }
    return this.current?.grams ?? Number.NaN;
  }

  async close(): Promise<void> {
    await this.readings.return(undefined);
  }
}

/**
 * Second reading of the plate files: every shelf's samples on its own clock, shelf by shelf. A shelf
 * streams the plates that have a file; a shelf with none has no stream.
 */
export async function writeShelfSamples(writer: RecordingWriter, store: Store, surveys: PlateSurvey[], report: ReportIssue) {
  const span = { ticks: 0, startMs: Infinity, endMs: -Infinity };
  for (const gondola of store.layout.gondolas)
    for (const shelf of gondola.shelves) {
      const platesHere = shelf.plates.flatMap((plate) => surveys.find((s) => plateIdOf(s) === plate.id) ?? []);
      if (platesHere.length === 0) continue;
      const from = Math.max(...platesHere.map((s) => s.firstMs));
      const to = Math.min(...platesHere.map((s) => s.lastMs));
      if (!(to >= from)) {
        report({ file: platesHere[0].file, line: 1, severity: 'error', message: `plates of shelf ${shelf.id} share no common time span: shelf left out` });
        continue;
      }
      const cellIds = platesHere.map((s) => ids.cell(s.gondola, s.shelf, s.plate));
      const out = writer.loadCells(shelf.id, cellIds, platesHere[0].rateHz);
      const written = await writeShelf(writer, out, platesHere, from, to);
      span.ticks += written.ticks;
      span.startMs = Math.min(span.startMs, written.startMs);
      span.endMs = Math.max(span.endMs, written.endMs);
    }
  return span;
}

/**
 * One controller samples a shelf's plates together: the first plate's own timestamps are the shelf's
 * clock, and every other plate gives its reading nearest in time (never a repeat made up by a fixed
 * grid, which would fake a quieter cell).
 */
async function writeShelf(writer: RecordingWriter, out: LoadCellStreamWriter, plates: PlateSurvey[], from: number, to: number) {
  const clock = readPlateCsv(plates[0].file, ignoreIssues, noCounts());
  const others = await Promise.all(plates.slice(1).map((s) => NearestReading.open(readPlateCsv(s.file, ignoreIssues, noCounts()))));
  const row = new Float64Array(plates.length);
  const written = { ticks: 0, startMs: Infinity, endMs: -Infinity };
  try {
    for await (const reading of clock) {
      if (reading.ms < from) continue;
      if (reading.ms > to) break;
      row[0] = reading.grams;
      for (let i = 0; i < others.length; i++) row[i + 1] = await others[i].gramsAt(reading.ms);
      const ts = Math.round(reading.ms);
      out.write(ts, row);
      written.ticks++;
      written.startMs = Math.min(written.startMs, ts);
      written.endMs = Math.max(written.endMs, ts);
      if (written.ticks % SETTLE_EVERY_TICKS === 0) await writer.settle();
    }
  } finally {
    await clock.return(undefined);
    await Promise.all(others.map((other) => other.close()));
  }
  return written;
}

/** The ground truth, checked row by row against the imported store and products, written as read. */
async function writeTruth(
  writer: RecordingWriter,
  truthCsv: string,
  productsCsv: string,
  store: Store,
  products: ImportedProducts,
  span: { startMs: number; endMs: number },
  report: ReportIssue,
): Promise<number> {
  const shelves = new Map(store.layout.gondolas.flatMap((gondola) => gondola.shelves.map((shelf) => [shelf.id, shelf] as const)));
  const placementOf = new Map(store.planogram.placements.map((placement) => [placement.laneId, placement.productId]));
  let actions = 0;
  for await (const { line, fields } of csvRows(truthCsv, TRUTH_COLUMNS, report, { firstIsNumber: true })) {
    const problem = (message: string, severity: ImportIssue['severity'] = 'error') => report({ file: truthCsv, line, severity, message });
    const [secondsText, gondolaText, shelfText, platesText, name, deltaText] = fields;
    const [seconds, gondola, shelfNumber, delta] = [secondsText, gondolaText, shelfText, deltaText].map(numberField);
    const plateNumbers = (platesText ?? '').split(';').map(numberField);
    const shelfId = ids.shelf(gondola, shelfNumber);
    const shelf = shelves.get(shelfId);
    const product = products.byName.get(name ?? '');
    const unit = Number.isFinite(seconds) ? wrongTimeUnit(seconds) : null;
    if (fields.length !== TRUTH_COLUMNS.length) problem(`expected ${TRUTH_COLUMNS.length} columns (${TRUTH_COLUMNS.join(',')}), found ${fields.length}`);
    else if (!Number.isFinite(seconds)) problem(`unix_seconds is not a number: "${secondsText}"`);
    else if (unit) problem(`unix_seconds ${secondsText} ${unit}: this row is left out`);
    else if (!shelf) problem(`no plates were imported for gondola ${gondolaText} shelf ${shelfText}`);
    else if (!plateNumbers.every((plate) => Number.isInteger(plate) && shelf.plates.some((p) => p.id === ids.plate(gondola, shelfNumber, plate))))
      problem(`plates "${platesText}" are not plates of shelf ${shelfId}`);
    else if (!product) problem(`unknown product "${name}" (not in ${productsCsv})`);
    else if (!Number.isInteger(delta) || delta === 0) problem(`quantity_delta must be a non-zero whole number, found "${deltaText}"`);
    else {
      const ms = Math.round(seconds * 1000);
      if (ms < span.startMs || ms > span.endMs)
        problem(`at ${secondsText} s, outside the imported load-cell data (${span.startMs / 1000} to ${span.endMs / 1000} s): kept, but nothing can match it`, 'warning');
      const plateIds = plateNumbers.map((plate) => ids.plate(gondola, shelfNumber, plate));
      const lanesHere = shelf.lanes.filter((lane) => plateIds.includes(lane.plateIds[0]));
      const lane = lanesHere.find((l) => placementOf.get(l.id) === product.id) ?? lanesHere[0];
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
  return actions;
}

/** The sample rate from the gaps between readings, rounded to a whole number of hertz. */
function estimateRate(gaps: number[]): number {
  const positive = gaps.filter((gap) => gap > 0).sort((a, b) => a - b);
  if (positive.length < 2) return DEFAULT_RATE_HZ;
  // Mean of the ordinary gaps (timestamps are often rounded to whole ms), ignoring outages.
  const median = positive[positive.length >> 1];
  const ordinary = positive.filter((gap) => gap <= 3 * median);
  const hz = Math.round((1000 * ordinary.length) / ordinary.reduce((sum, gap) => sum + gap, 0));
  return Math.min(2000, Math.max(1, hz));
}

/**
 * Resting noise from the median absolute step between consecutive readings, grams: the estimate and
 * floor the shelf's health monitor uses live, so the cell's rated noise is what the monitor would see.
 */
function estimateNoise(steps: number[]): number {
  if (steps.length === 0) return 1;
  const sorted = [...steps].sort((a, b) => a - b);
  const sigma = sorted[sorted.length >> 1] * MEDIAN_ABS_DIFF_TO_SIGMA;
  return Math.round(Math.max(NOISE_FLOOR_GRAMS, sigma) * 100) / 100;
}
