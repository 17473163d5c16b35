import { plateShares, WalkoutError, type LoadCell, type StoreIndex } from '../contracts/index.ts';
import { createRandom, type Random } from './random.ts';

/**
 * Load-cell physics for the simulator: what the cells under one shelf's plates read, tick by tick,
 * while hands pick, put and lean. Modelled on public cashierless data (60 Hz, plates of about 1 kg):
 *
 * - an unknown tare per cell (the plate itself, about 1 kg, never zeroed), plus the stock resting on it;
 * - slow drift, so absolute values mean little and only changes are reliable;
 * - resting noise that differs from plate to plate as in a real store (most plates well under a gram,
 *   a few of several grams; see drawPlateNoiseGrams), not the store file's rated `noiseGrams`;
 * - a pick or put is a transient: the hand presses the plate, the weight steps, and the plate rings with
 *   an overshoot of tens of grams before it settles;
 * - cross-talk: neighbouring plates of the same shelf twitch by a few grams, with no net change;
 * - leaning on a shelf: a wobbly push that goes away again (no net change);
 * - faults: stuck, dead, saturated and wildly noisy cells.
 *
 * An item resting across two plates splits its weight: the scenario simulator gives each plate its own
 * share (see plateShares in libs/contracts), and this module only turns per-plate changes into readings.
 */

/** A change of the load on one plate; deltaGrams is the net change on this plate (0 for a lean). */
export interface PlateLoadChange {
  plateId: string;
  atMs: number;
  durationMs: number;
  deltaGrams: number;
  kind: 'pick' | 'put' | 'lean';
  /** How hard the hand presses while it grabs or places, grams; drawn from the seed when absent. */
  pressGrams?: number;
  /** Peak force of a lean, grams; drawn from the seed when absent. */
  leanGrams?: number;
}

export type LoadCellFault = {
  loadCellId: string;
  kind: 'stuck' | 'dead' | 'saturated' | 'noisy';
  fromMs: number;
  /** When the fault clears; it lasts to the end when absent. */
  toMs?: number;
};

export interface ShelfLoadCellTick {
  ts: number;
  /** One value per load cell of the shelf, in shelf plate order, grams. */
  grams: Float64Array;
}

export interface SimulateShelfOptions {
  index: StoreIndex;
  shelfId: string;
  startMs: number;
  endMs: number;
  /** Per plate id: weight of the stock resting on the plate, grams (from the planogram). */
  initialGrams: Map<string, number>;
  changes: PlateLoadChange[];
  seed: number;
  faults?: LoadCellFault[];
  /** Resting noise of some load cells, grams, by load cell id; the others draw theirs (plateNoiseGrams). */
  noiseGrams?: ReadonlyMap<string, number>;
}

/** The plate itself and its fixings: what a cell reads with nothing on it. Never zeroed. */
export const TARE_GRAMS_MIN = 800;
export const TARE_GRAMS_MAX = 1_200;
/** Slow drift: a steady creep plus two slow swings (temperature, creep of the strain gauge). */
export const DRIFT_RATE_SD_GRAMS_PER_MIN = 1.0;
export const DRIFT_SWING_GRAMS_MAX = 3;
export const DRIFT_SWING_PERIOD_MS = [90_000, 600_000] as const;
/** Hand pressing on the plate while grabbing or placing, grams. */
export const PRESS_GRAMS_RANGE = [8, 45] as const;
/** Ringing after the step: overshoot in the direction of the change, grams (tens of grams at most). */
export const RING_GRAMS_PER_GRAM = 0.06;
export const RING_GRAMS_BASE_RANGE = [4, 14] as const;
export const RING_GRAMS_MAX = 70;
export const RING_HZ_RANGE = [3.5, 6] as const;
export const RING_DECAY_MS_RANGE = [45, 80] as const;
/** After this many decay constants the ringing is below the noise; the change is then permanent. */
const RING_DECAYS_TO_SETTLE = 7;
/** Share of a plate's movement that its neighbours feel (cross-talk through the shelf frame). */
export const CROSSTALK_RANGE = [0.02, 0.06] as const;
/** How much of the weight step the neighbours feel as a twitch while it happens. */
const STEP_TWITCH_SHARE = 0.15;
/** A lean: a push of this many grams, wobbling at a few hertz while it lasts. */
export const LEAN_GRAMS_RANGE = [80, 400] as const;
export const LEAN_WOBBLE_SHARE = 0.2;
export const LEAN_WOBBLE_HZ_RANGE = [1.2, 3] as const;
/**
 * Resting noise of a plate, one standard deviation. In the recordings of a public cashierless store the
 * plates differ widely: a median of 0.71 g and a 95th percentile of 4.6 g, a long tail towards noisy
 * plates. Each simulated plate draws its own from a log-normal spread through those two figures.
 */
export const PLATE_NOISE_MEDIAN_GRAMS = 0.71;
export const PLATE_NOISE_P95_GRAMS = 4.6;
/**
 * The spread's ends. No plate rests quieter than its reading resolution: far below it the readings
 * repeat one value for seconds, which a health monitor rightly takes for a stuck cell. Noisier than
 * the cap, a plate is a fault (the shelf's health monitor calls 10 g noisy): the 'noisy' fault plays those.
 */
export const PLATE_NOISE_MAX_GRAMS = 8;
/** The standard normal's 95th percentile. */
const NORMAL_P95 = 1.6448536;
const PLATE_NOISE_LOG_SD = Math.log(PLATE_NOISE_P95_GRAMS / PLATE_NOISE_MEDIAN_GRAMS) / NORMAL_P95;
/** A wildly noisy cell: this many times its rated noise, plus spikes. */
export const NOISY_FAULT_FACTOR = 30;
const NOISY_SPIKE_CHANCE = 0.01;
const NOISY_SPIKE_GRAMS = 400;
/** Readings are reported to this resolution, grams (as a typical 24-bit ADC front end does). */
export const READING_RESOLUTION_GRAMS = 0.1;

const smoothstep = (u: number) => (u <= 0 ? 0 : u >= 1 ? 1 : u * u * (3 - 2 * u));
const bump = (u: number) => (u <= 0 || u >= 1 ? 0 : Math.sin(Math.PI * u) ** 2);

/** One change turned into a function of time: what the plate feels, and what its neighbours feel. */
interface ActiveChange {
  plateSlot: number;
  startMs: number;
  /** After this instant only the net change remains. */
  settledMs: number;
  netGrams: number;
  /** Load on the plate itself at time t, relative to before the change (net change included). */
  own(t: number): number;
  /** The part of the movement that is not the net change (for cross-talk). */
  dynamic(t: number): number;
  crosstalk: number;
}

function buildChange(change: PlateLoadChange, plateSlot: number, random: Random): ActiveChange {
  const start = change.atMs;
  const duration = Math.max(1, change.durationMs);
  const delta = change.deltaGrams;
  const ringHz = random.uniform(...RING_HZ_RANGE);
  const decayMs = random.uniform(...RING_DECAY_MS_RANGE);
  const crosstalk = random.uniform(...CROSSTALK_RANGE);
  const ringOmega = (2 * Math.PI * ringHz) / 1000;
  const ringEnd = start + duration;
  const settledMs = ringEnd + RING_DECAYS_TO_SETTLE * decayMs;

  if (change.kind === 'lean') {
    const lean = change.leanGrams ?? random.uniform(...LEAN_GRAMS_RANGE);
    const wobbleHz = random.uniform(...LEAN_WOBBLE_HZ_RANGE);
    const wobblePhase = random.uniform(0, 2 * Math.PI);
    const ring = lean * 0.15;
    const edge = 0.2 * duration;
    const dynamic = (t: number) => {
      if (t < start) return 0;
      if (t < ringEnd) {
        const rise = smoothstep((t - start) / edge) * (1 - smoothstep((t - (ringEnd - edge)) / edge));
        const wobble = 1 + LEAN_WOBBLE_SHARE * Math.sin((2 * Math.PI * wobbleHz * (t - start)) / 1000 + wobblePhase);
        return lean * rise * wobble;
      }
      const tau = t - ringEnd;
      return -ring * Math.exp(-tau / decayMs) * Math.sin(ringOmega * tau);
    };
    const own = (t: number) => dynamic(t) + delta * smoothstep((t - start) / duration);
    return { plateSlot, startMs: start, settledMs, netGrams: delta, own, dynamic, crosstalk };
  }

  // Pick or put: the hand presses first, the weight moves in the middle, the plate rings at release.
  const press = change.pressGrams ?? random.uniform(...PRESS_GRAMS_RANGE);
  const pressEnd = start + 0.5 * duration;
  const stepStart = start + 0.35 * duration;
  const stepEnd = start + 0.75 * duration;
  const ringAmp = Math.sign(delta) * Math.min(RING_GRAMS_MAX, RING_GRAMS_PER_GRAM * Math.abs(delta) + random.uniform(...RING_GRAMS_BASE_RANGE));
  const ring = (t: number) => {
    if (t < stepEnd) return 0;
    const tau = t - stepEnd;
    return ringAmp * Math.exp(-tau / decayMs) * Math.sin(ringOmega * tau);
  };
  const pressing = (t: number) => press * bump((t - start) / (pressEnd - start));
  const step = (t: number) => delta * smoothstep((t - stepStart) / (stepEnd - stepStart));
  const dynamic = (t: number) =>
    pressing(t) + ring(t) + STEP_TWITCH_SHARE * Math.abs(delta) * bump((t - stepStart) / (stepEnd - stepStart));
  const own = (t: number) => pressing(t) + step(t) + ring(t);
  return { plateSlot, startMs: start, settledMs, netGrams: delta, own, dynamic, crosstalk };
}

/** One plate's resting noise, grams, drawn from the store-like spread. */
export function drawPlateNoiseGrams(random: Random): number {
  const grams = PLATE_NOISE_MEDIAN_GRAMS * Math.exp(PLATE_NOISE_LOG_SD * random.normal());
  return Math.min(PLATE_NOISE_MAX_GRAMS, Math.max(READING_RESOLUTION_GRAMS, grams));
}

/** The random source of one simulated shelf's load cells, for a seed. */
function shelfRandom(seed: number, shelfId: string): Random {
  return createRandom(seed).fork(`loadcells:${shelfId}`);
}

/** Every draw for one cell of a shelf comes from its own fork, so a seed fixes each cell alone. */
function cellRandom(shelf: Random, loadCellId: string): Random {
  return shelf.fork(`cell:${loadCellId}`);
}

/** A cell's resting noise, grams, from its own fork of the cell's source: the other draws do not move it. */
function restingNoiseGrams(cell: Random): number {
  return drawPlateNoiseGrams(cell.fork('resting-noise'));
}

/** The resting noise the simulator gives a load cell for a seed, grams (one standard deviation). */
export function plateNoiseGrams(seed: number, shelfId: string, loadCellId: string): number {
  return restingNoiseGrams(cellRandom(shelfRandom(seed, shelfId), loadCellId));
}

interface CellModel {
  loadCell: LoadCell;
  random: Random;
  /** Resting noise of this plate, grams. */
  noiseGrams: number;
  tare: number;
  driftPerMs: number;
  swings: Array<{ amplitude: number; omega: number; phase: number }>;
}

/**
 * The readings of every load cell of one shelf from startMs to endMs, one tick per sample.
 * Deterministic for a seed: the same options give the same numbers on every machine.
 */
export function* simulateShelfLoadCells(opts: SimulateShelfOptions): Generator<ShelfLoadCellTick> {
  const entry = opts.index.shelves.get(opts.shelfId);
  if (!entry) throw new WalkoutError('SCENARIO_INVALID', `unknown shelf ${opts.shelfId}`);
  const plates = entry.shelf.plates;
  const slotByPlate = new Map(plates.map((p, i) => [p.id, i]));
  const random = shelfRandom(opts.seed, opts.shelfId);

  const cells: CellModel[] = plates.map((plate) => {
    const loadCell = opts.index.loadCellByPlate.get(plate.id);
    if (!loadCell) throw new WalkoutError('SCENARIO_INVALID', `plate ${plate.id} of shelf ${opts.shelfId} has no load cell`);
    const r = cellRandom(random, loadCell.id);
    return {
      loadCell,
      random: r.fork('noise'),
      noiseGrams: opts.noiseGrams?.get(loadCell.id) ?? restingNoiseGrams(r),
      tare: r.uniform(TARE_GRAMS_MIN, TARE_GRAMS_MAX),
      driftPerMs: r.normal(0, DRIFT_RATE_SD_GRAMS_PER_MIN) / 60_000,
      swings: DRIFT_SWING_PERIOD_MS.map((period) => ({
        amplitude: r.uniform(0, DRIFT_SWING_GRAMS_MAX),
        omega: (2 * Math.PI) / (period * r.uniform(0.7, 1.3)),
        phase: r.uniform(0, 2 * Math.PI),
      })),
    };
  });
  const rates = new Set(cells.map((c) => c.loadCell.sampleRateHz));
  if (rates.size !== 1)
    throw new WalkoutError('SCENARIO_INVALID', `load cells of shelf ${opts.shelfId} sample at different rates (${[...rates].join(', ')} Hz)`);
  const periodMs = 1000 / cells[0].loadCell.sampleRateHz;

  const level = plates.map((p) => opts.initialGrams.get(p.id) ?? 0);
  const changes = opts.changes
    .map((change, i) => {
      const slot = slotByPlate.get(change.plateId);
      if (slot === undefined)
        throw new WalkoutError('SCENARIO_INVALID', `change ${i} (${change.kind} at ${change.atMs} ms) names plate ${change.plateId}, not on shelf ${opts.shelfId}`);
      return buildChange(change, slot, random.fork(`change:${i}:${change.plateId}:${change.atMs}`));
    })
    .sort((a, b) => a.startMs - b.startMs);
  // Changes that ended before the start are already part of the level.
  let next = 0;
  while (next < changes.length && changes[next].settledMs <= opts.startMs) level[changes[next].plateSlot] += changes[next++].netGrams;
  let active: ActiveChange[] = [];

  const faults = (opts.faults ?? []).map((f) => {
    const slot = cells.findIndex((c) => c.loadCell.id === f.loadCellId);
    if (slot < 0) throw new WalkoutError('SCENARIO_INVALID', `fault names load cell ${f.loadCellId}, not on shelf ${opts.shelfId}`);
    return { ...f, slot, toMs: f.toMs ?? Number.POSITIVE_INFINITY, stuckAt: Number.NaN };
  });

  const n = plates.length;
  const clean = new Float64Array(n);
  const spill = new Float64Array(n);
  for (let tick = 0; ; tick++) {
    const ts = Math.round(opts.startMs + tick * periodMs);
    if (ts > opts.endMs) return;
    while (next < changes.length && changes[next].startMs <= ts) active.push(changes[next++]);
    if (active.length > 0) {
      const still: ActiveChange[] = [];
      for (const change of active) {
        if (change.settledMs <= ts) level[change.plateSlot] += change.netGrams;
        else still.push(change);
      }
      active = still;
    }
    clean.set(level);
    spill.fill(0);
    for (const change of active) {
      clean[change.plateSlot] += change.own(ts);
      const felt = change.crosstalk * change.dynamic(ts);
      if (change.plateSlot > 0) spill[change.plateSlot - 1] += felt;
      if (change.plateSlot < n - 1) spill[change.plateSlot + 1] += felt;
    }
    const grams = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const cell = cells[i];
      let drift = cell.driftPerMs * (ts - opts.startMs);
      for (const s of cell.swings) drift += s.amplitude * Math.sin(s.omega * ts + s.phase);
      const value = cell.tare + clean[i] + spill[i] + drift + cell.random.normal(0, cell.noiseGrams);
      grams[i] = value;
    }
    for (const fault of faults) {
      if (ts < fault.fromMs || ts >= fault.toMs) continue;
      const cell = cells[fault.slot];
      switch (fault.kind) {
        case 'stuck':
          if (Number.isNaN(fault.stuckAt)) fault.stuckAt = grams[fault.slot];
          grams[fault.slot] = fault.stuckAt;
          break;
        case 'dead':
          grams[fault.slot] = 0;
          break;
        case 'saturated':
          grams[fault.slot] = cell.loadCell.capacityGrams;
          break;
        case 'noisy': {
          const r = cell.random;
          grams[fault.slot] += r.normal(0, NOISY_FAULT_FACTOR * cell.loadCell.noiseGrams);
          if (r.chance(NOISY_SPIKE_CHANCE)) grams[fault.slot] += r.uniform(-NOISY_SPIKE_GRAMS, NOISY_SPIKE_GRAMS);
          break;
        }
      }
    }
    for (let i = 0; i < n; i++)
      grams[i] = Math.round(Math.min(cells[i].loadCell.capacityGrams, grams[i]) / READING_RESOLUTION_GRAMS) * READING_RESOLUTION_GRAMS;
    yield { ts, grams };
  }
}

/** The weight of stock on each plate of a shelf from the planogram: what initialGrams usually holds. */
export function plateStockGrams(index: StoreIndex, shelfId: string, stockByLane?: Map<string, number>): Map<string, number> {
  const entry = index.shelves.get(shelfId);
  if (!entry) throw new WalkoutError('SCENARIO_INVALID', `unknown shelf ${shelfId}`);
  const grams = new Map(entry.shelf.plates.map((p) => [p.id, 0]));
  for (const lane of entry.shelf.lanes) {
    const placement = index.placementByLane.get(lane.id);
    if (!placement) continue;
    const product = index.products.get(placement.productId)!;
    const units = stockByLane?.get(lane.id) ?? placement.initialStock;
    const shares = plateShares(index, lane.id);
    for (const [plateId, share] of shares) grams.set(plateId, (grams.get(plateId) ?? 0) + units * product.unitWeightGrams * share);
  }
  return grams;
}
