import {
  SCHEMA_VERSION,
  WalkoutError,
  type DeviceHealthReported,
  type JointExplanation,
  type ProductHypothesis,
  type ShelfEventDetected,
  type ShelfStock,
  type StoreIndex,
} from '../contracts/index.ts';
import { plateShares } from '../contracts/index.ts';
import { explainWithPlatesApart, isLean, onPlate, plateChanged, twinLanes, type Explanation, type Item, type LaneGeometry, type PlateChange } from './hypothesis.model.ts';
import { checkShelfStock, ShelfInventory, TAKEN_TTL_MS, type StockMove } from './inventory.model.ts';
import { CellHealthMonitor, worstHealth, type CellHealth } from './sensor.health.ts';

/**
 * The streaming shelf detector: one per shelf, fed one sample tick at a time (every plate's reading).
 *
 * At rest it follows each plate's level slowly (drift is harmless: only changes across an event are
 * used, never absolute values). A plate that leaves its level by several noise widths opens a segment
 * on its section: the plates its lanes tie together (a lane resting on two plates ties them; plates no
 * lane shares are sections of their own). The segment closes when the section's plates and the plates
 * next to them have been quiet for SETTLE_MS (ringing, a lean's wobble and a neighbour's shaking keep
 * it open), and the readings after that, averaged, against the readings before, give each of the
 * section's plates its net change with its uncertainty. Sections segment apart: two shoppers at two
 * ends of one shelf, or a hand resting on one plate while another hand picks elsewhere on the shelf,
 * give an event each instead of one change none explains. A lean or a neighbour's twitch comes back
 * to where it was and yields nothing. The per-plate changes are then explained as units on lanes (hypothesis.model),
 * with what the shelf's own inventory believes each lane holds, and become one shelf event per moved
 * lane. A change that no product and quantity explains within its uncertainty is published once, as an
 * unexplained change (no hypotheses, no confidence), for fusion to send to review if a hand was there.
 * The detector keeps no state of any other shelf.
 */

/** A plate is quiet when this much of its recent signal stays within noise. */
export const SETTLE_MS = 250;
/** Resting readings averaged before a segment opens, at most, ms. */
export const BEFORE_MS = 500;
/** Resting readings averaged after the shelf settles, at most, ms (the event is published after them). */
export const AFTER_MS = 500;
/** Leaving the level by this many noise widths (and at least TRIGGER_MIN_GRAMS) opens a segment. */
export const TRIGGER_SIGMAS = 5;
export const TRIGGER_MIN_GRAMS = 4;
/** Quiet: range within this many noise widths, and standard deviation within QUIET_SD_SIGMAS. */
export const QUIET_RANGE_SIGMAS = 6;
export const QUIET_SD_SIGMAS = 1.6;
/** Weight that rose by more than this when movement resumes keeps a segment open (see after()). */
export const CHANGE_MIN_GRAMS = 3;
/** The onset of a segment is dated back to where the plate first left its level by this many sigmas. */
export const ONSET_SIGMAS = 2.5;
export const MAX_BACKDATE_MS = 200;
/** A shelf that never settles (a hand resting on it, a failing cell) is closed by force after this. */
export const MAX_ACTIVE_MS = 10_000;
/**
 * How fast the resting level follows the readings, per sample: fast enough for drift (grams per
 * minute), slow enough that a slow, light put (30 g over half a second) cannot creep in unseen.
 */
export const LEVEL_FOLLOW = 1 / 48;
/** Alternatives on other lanes are listed on the event when at least this likely. */
export const LANE_ALTERNATIVE_MIN = 0.2;
/**
 * Every product and quantity that fits the change is listed, for fusion to settle near-equal weights
 * with the shopper's cart; this only bounds a message when a put could be any of hundreds of products.
 */
export const MAX_HYPOTHESES = 40;
/**
 * A stillness inside a segment that ends where it began is taken for a unit laid down and lifted
 * again when one unit put down explains it at least this likely (see laidDownAndLifted).
 */
export const HOLD_MIN_POSTERIOR = 0.5;
/**
 * A change of several items lists other whole explanations down to this likely: what the shoppers
 * carry (which fusion knows) can outweigh the shelf's priors by thousands (a put of something nobody
 * there holds), so alternatives far below the published one still matter.
 */
export const JOINT_ALTERNATIVE_MIN = 1e-4;
export const MAX_JOINT_EXPLANATIONS = 6;
/** A hand's put or lift, from the first touch to a still plate, takes at most this long, ms (see laidDownAndLifted). */
export const HAND_MOVE_MAX_MS = 2_000;
/**
 * How long the detector remembers the stock moves of its events, for fusion to read a change
 * otherwise (reread): as long as units taken are expected back, far longer than fusion takes, ms.
 */
export const REREAD_KEEP_MS = TAKEN_TTL_MS;
const HEALTH_CONFIDENCE: Record<CellHealth, number> = { ok: 1, noisy: 0.5, stuck: 0.3, saturated: 0.3, dead: 0.3 };
const RING = 128;
/** ShelfEventDetected.transitionMs: the share of the net change it runs from and to, readings averaged over this many ticks, and the least change timed, grams. */
export const TRANSITION_FROM = 0.25;
export const TRANSITION_TO = 0.75;
const TRANSITION_SMOOTH_TICKS = 3;
const TRANSITION_MIN_GRAMS = 10;

type State = 'rest' | 'active' | 'after';

/** One item of fusion's reading of a change (ShelfDetector.reread). */
export interface RereadItem {
  shelfEventId: string;
  kind: 'pick' | 'put';
  laneId: string;
  productId: string;
  quantity: number;
}

/**
 * What the detector did to its stock, in order, as restore() makes it again on a stock that came
 * late: an event's move, or a re-reading of fusion's (at the time of the change it read).
 */
type StockStep =
  | { kind: 'move'; shelfEventId: string; move: StockMove }
  | { kind: 'unmoved'; shelfEventId: string; atMs: number }
  | { kind: 'reread'; replaces: readonly string[]; items: readonly RereadItem[]; atMs: number };

/** Resting readings of a plate: their mean and how many. */
interface Resting {
  mean: number;
  count: number;
}

/**
 * What a published change spans: the time its ids are named by, its end, whether it was closed by
 * force, and its start when not its plates' first movement, with the resting readings it started
 * from then (every plate, NaN for plates of other sections).
 */
interface Piece {
  idMs: number;
  endMs: number;
  forced: boolean;
  startMs?: number;
  from?: Float64Array;
}

/**
 * A still moment inside a segment that movement broke before the shelf could call it settled: the
 * readings the section had rested at, how long, and when the movement came. A lean caught still, a
 * hand resting on the plate, or a unit laid down that a hand lifts again at once.
 */
interface Hold {
  /** When the section became quiet, and when it moved again, store clock. */
  settleMs: number;
  untilMs: number;
  /** Mean reading of each plate while it held (NaN for plates of other sections). */
  means: Float64Array;
  count: number;
}

/**
 * A change of several items at once: the published explanation and the likeliest others (at least
 * JOINT_ALTERNATIVE_MIN, at most MAX_JOINT_EXPLANATIONS in all), each with every item it moved.
 */
function jointExplanations(explanations: readonly Explanation[]): JointExplanation[] {
  return explanations
    .filter((e, i) => i === 0 || (e.posterior >= JOINT_ALTERNATIVE_MIN && !e.items.some(isLean)))
    .slice(0, MAX_JOINT_EXPLANATIONS)
    .map((e) => ({
      probability: Math.min(1, Math.max(0, Math.round(e.posterior * 1e6) / 1e6)),
      items: e.items.map((x) => ({
        kind: x.sign < 0 ? ('pick' as const) : ('put' as const),
        laneId: x.laneId,
        productId: x.productId,
        quantity: x.quantity,
        deltaGrams: Math.round(x.sign * x.meanGrams * 10) / 10,
      })),
    }));
}

/**
 * The item of another reading of a change of several items that stands for `item` there: the one
 * moving its lane the same way; of two such (two products from one lane), the one of its product,
 * else the first. None when that reading moves nothing there.
 */
function sameLaneItem(items: readonly Item[], item: Item): Item[] {
  const same = items.filter((x) => x.lane === item.lane && x.sign === item.sign);
  if (same.length < 2) return same;
  return [same.find((x) => x.productId === item.productId) ?? same[0]];
}

/** The plates whose net change is a change (plateChanged), in shelf order. */
function changedPlates(changes: readonly PlateChange[]): number[] {
  return changes.flatMap((change, p) => (plateChanged(change) ? [p] : []));
}

/** Plates the shelf's lanes tie together, segmented on their own, with their open segment. */
interface Section {
  /** Plate slots, in shelf order. */
  plates: number[];
  /** Its plates and the plates next to them on the shelf: all must be quiet for a segment to close. */
  watched: number[];
  /** What the section adds to its events' ids: nothing for the shelf's first. */
  tag: string;
  state: State;
  restStart: number;
  segStartMs: number;
  settleMs: number;
  segTrigger: number;
  settleStart: number;
  afterEnd: number;
  lastLoud: number;
  /** The open segment's still moments that movement broke, in order. */
  holds: Hold[];
  /**
   * The open segment's readings from its first movement on (the ring of recent ticks is shorter than
   * a long segment): each tick's time, and its plates' readings in `plates` order.
   */
  traceMs: number[];
  traceGrams: Float64Array[];
}

/**
 * The shelf's plates grouped by the lanes that rest on several of them: plates a lane shares are in
 * one section, and a plate no lane shares with another is a section of its own. In shelf order.
 */
export function plateSections(plates: number, lanes: readonly LaneGeometry[]): number[][] {
  const root = Array.from({ length: plates }, (_, p) => p);
  const find = (p: number): number => (root[p] === p ? p : (root[p] = find(root[p])));
  for (const lane of lanes) {
    const on = [...lane.shares.keys()].filter((p) => lane.shares[p] > 0);
    for (const p of on.slice(1)) root[find(p)] = find(on[0]);
  }
  const sections = new Map<number, number[]>();
  for (let p = 0; p < plates; p++) {
    const key = find(p);
    sections.set(key, [...(sections.get(key) ?? []), p]);
  }
  return [...sections.values()];
}

export interface ShelfDetectorOptions {
  index: StoreIndex;
  shelfId: string;
  onEvent(event: ShelfEventDetected): void;
  onHealth?(report: DeviceHealthReported): void;
}

export interface ShelfDetectorStats {
  samples: number;
  segments: number;
  /** Segments that came back to where they started: leans, twitches, bumps. */
  segmentsWithoutChange: number;
  /** Segments closed by force because the shelf never settled. */
  segmentsForced: number;
  /** Segments that came back to where they started after resting at a unit's weight: a put and a pick. */
  laidDownAndLifted: number;
  events: number;
  /** Changes whose stock moves were taken back for fusion's reading of them (reread). */
  rereads: number;
}

export class ShelfDetector {
  readonly shelfId: string;
  readonly loadCellIds: string[];
  readonly plateIds: string[];
  /** What this shelf holds, as its events have changed it. */
  readonly inventory: ShelfInventory;
  readonly stats: ShelfDetectorStats = { samples: 0, segments: 0, segmentsWithoutChange: 0, segmentsForced: 0, laidDownAndLifted: 0, events: 0, rereads: 0 };
  private readonly n: number;
  private readonly lanes: LaneGeometry[];
  private readonly lanesOfPlate: number[][];
  private readonly health: CellHealthMonitor[];
  private readonly settleN: number;
  private readonly beforeN: number;
  private readonly afterN: number;
  private readonly backdateN: number;
  private readonly maxActiveN: number;
  /** Load-cell samples a second. */
  private readonly rate: number;
  // Ring of the last RING ticks: values[j * n + p].
  private readonly values: Float64Array;
  private readonly times = new Float64Array(RING);
  private k = -1;
  /** The plates the shelf's lanes tie together, each segmented on its own. */
  private readonly sections: Section[];
  private readonly sectionOfPlate: Section[];
  // Per plate (a plate belongs to one section, so its section's segment owns these).
  private readonly level: Float64Array;
  private readonly over: Int32Array;
  private readonly validFrom: Int32Array;
  private readonly before: Float64Array;
  private readonly beforeCount: Int32Array;
  private readonly afterSum: Float64Array;
  private readonly afterCount: Int32Array;
  private readonly firstMove: Float64Array;
  private readonly segHealth: CellHealth[];
  /** The stock move each of the recent events made, by shelf event id, oldest first (REREAD_KEEP_MS). */
  private readonly moves = new Map<string, StockMove>();
  /**
   * Recent events of changes no product explained, which moved no stock, with when they ended
   * (REREAD_KEEP_MS): a reviewer's decision on one (a re-reading naming its review) moves what was
   * decided.
   */
  private readonly unmoved = new Map<string, number>();
  /** Recent events whose moves a re-reading took back, with when they ended (REREAD_KEEP_MS). */
  private readonly replaced = new Map<string, number>();
  /** What this detector did to its stock itself, oldest first (REREAD_KEEP_MS): restore() makes it again. */
  private readonly steps: StockStep[] = [];
  private changes = 0;

  constructor(private readonly opts: ShelfDetectorOptions) {
    const entry = opts.index.shelves.get(opts.shelfId);
    if (!entry) throw new WalkoutError('CONFIG_INVALID', `shelf detector: unknown shelf ${opts.shelfId}`);
    this.shelfId = opts.shelfId;
    this.inventory = new ShelfInventory(opts.index, opts.shelfId);
    const plates = entry.shelf.plates;
    this.n = plates.length;
    this.plateIds = plates.map((p) => p.id);
    const cells = plates.map((p) => {
      const cell = opts.index.loadCellByPlate.get(p.id);
      if (!cell) throw new WalkoutError('CONFIG_INVALID', `shelf ${opts.shelfId}: plate ${p.id} has no load cell`);
      return cell;
    });
    this.loadCellIds = cells.map((c) => c.id);
    const rate = cells[0].sampleRateHz;
    this.rate = rate;
    const samples = (ms: number) => Math.max(1, Math.round((ms * rate) / 1000));
    this.settleN = Math.max(4, samples(SETTLE_MS));
    this.beforeN = samples(BEFORE_MS);
    this.afterN = Math.max(this.settleN, samples(AFTER_MS));
    this.backdateN = samples(MAX_BACKDATE_MS);
    this.maxActiveN = samples(MAX_ACTIVE_MS);
    this.health = cells.map((c) => new CellHealthMonitor(c.id, c.noiseGrams, c.capacityGrams, c.sampleRateHz));
    const slot = new Map(this.plateIds.map((id, i) => [id, i]));
    this.lanes = entry.shelf.lanes.map((lane) => {
      const shares = new Float64Array(this.n);
      for (const [plateId, share] of plateShares(opts.index, lane.id)) shares[slot.get(plateId)!] = share;
      return { laneId: lane.id, shares };
    });
    this.lanesOfPlate = this.plateIds.map((_, p) => this.lanes.flatMap((l, i) => (l.shares[p] > 0 ? [i] : [])));
    this.values = new Float64Array(RING * this.n);
    this.level = new Float64Array(this.n).fill(Number.NaN);
    this.over = new Int32Array(this.n);
    this.validFrom = new Int32Array(this.n);
    this.before = new Float64Array(this.n);
    this.beforeCount = new Int32Array(this.n);
    this.afterSum = new Float64Array(this.n);
    this.afterCount = new Int32Array(this.n);
    this.firstMove = new Float64Array(this.n);
    this.segHealth = this.plateIds.map(() => 'ok');
    this.sections = plateSections(this.n, this.lanes).map((plates, i) => ({
      plates,
      watched: [...new Set(plates.flatMap((p) => [p - 1, p, p + 1]))].filter((p) => p >= 0 && p < this.n).sort((a, b) => a - b),
      tag: i === 0 ? '' : `-s${i + 1}`,
      state: 'rest',
      restStart: 0,
      segStartMs: 0,
      settleMs: 0,
      segTrigger: 0,
      settleStart: 0,
      afterEnd: 0,
      lastLoud: plates[0],
      holds: [],
      traceMs: [],
      traceGrams: [],
    }));
    this.sectionOfPlate = [];
    for (const section of this.sections) for (const p of section.plates) this.sectionOfPlate[p] = section;
  }

  /** The health of each cell now, in plate order. */
  cellHealth(): CellHealth[] {
    return this.health.map((h) => h.health);
  }

  /** Counts every change of the stock (a move, a re-reading, a restore) and every event that moved nothing: a stock snapshot is due when it moved. */
  get stockChanges(): number {
    return this.changes;
  }

  /** No segment is open: a detector started fresh at such a moment goes on as this one does (services/shelf restarts from them). */
  get atRest(): boolean {
    return this.sections.every((section) => section.state === 'rest');
  }

  private usable(p: number): boolean {
    const h = this.health[p].health;
    return h === 'ok' || h === 'noisy';
  }

  private threshold(p: number): number {
    return Math.max(TRIGGER_MIN_GRAMS, TRIGGER_SIGMAS * this.health[p].workingNoiseGrams);
  }

  private at(j: number, p: number): number {
    return this.values[(j & (RING - 1)) * this.n + p];
  }

  /** Takes one tick: the time and every plate's reading, in plate order. */
  push(ts: number, grams: ArrayLike<number>): void {
    if (grams.length !== this.n)
      throw new WalkoutError('MESSAGE_INVALID', `shelf ${this.shelfId}: a tick has ${grams.length} readings for ${this.n} load cells`);
    const k = ++this.k;
    this.stats.samples++;
    const row = (k & (RING - 1)) * this.n;
    this.times[k & (RING - 1)] = ts;
    for (let p = 0; p < this.n; p++) {
      const x = grams[p];
      this.values[row + p] = x;
      const monitor = this.health[p];
      const wasUsable = this.usable(p);
      if (monitor.push(ts, x)) {
        this.reportHealth(p, ts);
        if (this.usable(p) && !wasUsable) {
          // Back from a fault: its old level means nothing now.
          this.level[p] = x;
          this.validFrom[p] = k;
          this.over[p] = 0;
        }
      }
      if (this.sectionOfPlate[p].state !== 'rest') {
        const h = monitor.health;
        if (worstHealth([h, this.segHealth[p]]) !== this.segHealth[p]) this.segHealth[p] = h;
      }
    }
    for (const section of this.sections) {
      if (section.state !== 'rest') this.trace(section, k);
      if (section.state === 'rest') this.rest(section, k);
      else if (section.state === 'active') this.active(section, k, ts);
      else this.after(section, k);
    }
  }

  /** Keeps tick k's readings of the section's plates in its open segment's trace. */
  private trace(section: Section, k: number): void {
    section.traceMs.push(this.times[k & (RING - 1)]);
    section.traceGrams.push(Float64Array.from(section.plates, (p) => this.at(k, p)));
  }

  /** Closes what is open at the end of a stream. */
  finish(): void {
    for (const section of this.sections) {
      if (section.state === 'after') this.finalize(section, false);
      else if (section.state === 'active' && this.k - section.segTrigger >= this.settleN) this.forceClose(section);
      section.state = 'rest';
      section.traceMs = [];
      section.traceGrams = [];
    }
  }

  private rest(section: Section, k: number): void {
    let triggered = false;
    for (const p of section.plates) {
      if (!this.usable(p)) continue;
      const x = this.at(k, p);
      const seen = k - this.validFrom[p];
      if (Number.isNaN(this.level[p]) || seen < this.beforeN) {
        // A plate just started (or back from a fault): its level is the mean of its first readings,
        // not the first alone, which may lie several noise widths off.
        this.level[p] = Number.isNaN(this.level[p]) ? x : this.level[p] + (x - this.level[p]) / (seen + 1);
        continue;
      }
      const dev = x - this.level[p];
      const thr = this.threshold(p);
      if (Math.abs(dev) > thr) {
        this.over[p]++;
        if (this.over[p] >= 2 || Math.abs(dev) > 3 * thr) triggered = true;
      } else {
        this.over[p] = 0;
        this.level[p] += LEVEL_FOLLOW * dev;
      }
    }
    if (triggered) this.open(section, k, (p) => this.level[p]);
  }

  /** Opens a segment of a section at tick k; reference(p) is the resting level the plate left. */
  private open(section: Section, k: number, reference: (p: number) => number): void {
    let start = k;
    for (const p of section.plates) {
      if (!this.usable(p) || this.over[p] === 0) continue;
      const ref = reference(p);
      const onset = ONSET_SIGMAS * this.health[p].workingNoiseGrams;
      let j = k;
      while (j > k - this.backdateN && j - 1 > section.restStart && Math.abs(this.at(j - 1, p) - ref) > onset) j--;
      start = Math.min(start, j);
    }
    for (const p of section.plates) {
      const from = Math.max(section.restStart, this.validFrom[p], start - this.beforeN, this.k - RING + 1);
      let sum = 0;
      let count = 0;
      for (let j = from; j < start; j++) {
        sum += this.at(j, p);
        count++;
      }
      if (count > 0) {
        this.before[p] = sum / count;
        this.beforeCount[p] = count;
      } else {
        this.before[p] = reference(p);
        this.beforeCount[p] = 1;
      }
      this.firstMove[p] = Number.NaN;
      this.segHealth[p] = this.health[p].health;
      this.over[p] = 0;
    }
    section.segStartMs = this.times[start & (RING - 1)];
    section.traceMs = [];
    section.traceGrams = [];
    for (let j = Math.max(start, this.k - RING + 1); j <= k; j++) this.trace(section, j);
    section.segTrigger = k;
    section.lastLoud = section.plates[0];
    section.holds = [];
    section.state = 'active';
    this.stats.segments++;
  }

  private quiet(k: number, p: number): boolean {
    const sigma = this.health[p].workingNoiseGrams;
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    let sumSq = 0;
    for (let j = k - this.settleN + 1; j <= k; j++) {
      const x = this.at(j, p);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      sum += x;
      sumSq += x * x;
    }
    if (hi - lo > QUIET_RANGE_SIGMAS * sigma + 0.5) return false;
    const mean = sum / this.settleN;
    const variance = Math.max(0, sumSq / this.settleN - mean * mean);
    return variance <= (QUIET_SD_SIGMAS * sigma + 0.2) ** 2;
  }

  private active(section: Section, k: number, ts: number): void {
    for (const p of section.plates)
      if (Number.isNaN(this.firstMove[p]) && this.usable(p) && Math.abs(this.at(k, p) - this.before[p]) > this.threshold(p)) this.firstMove[p] = ts;
    if (k - section.segTrigger < this.settleN) return;
    // Check the plate that was loud last time first: it is the one most likely still moving. The
    // plates next to the section must be quiet too, not only the section's: a plate moving next door
    // shakes the frame (a lean's wobble, a grab) and its neighbours twitch until it stops. Waiting
    // merges no events (each section weighs its own plates); it only keeps a twitch from settling as
    // a change. Plates further along the shelf are not waited for.
    if (this.usable(section.lastLoud) && !this.quiet(k, section.lastLoud)) return this.maybeForce(section, k);
    for (const p of section.watched) {
      if (p === section.lastLoud || !this.usable(p)) continue;
      if (!this.quiet(k, p)) {
        section.lastLoud = p;
        return this.maybeForce(section, k);
      }
    }
    section.settleStart = k - this.settleN + 1;
    for (const p of section.plates) {
      let sum = 0;
      for (let j = section.settleStart; j <= k; j++) sum += this.at(j, p);
      this.afterSum[p] = sum;
      this.afterCount[p] = this.settleN;
      this.over[p] = 0;
    }
    section.afterEnd = k;
    section.settleMs = this.times[section.settleStart & (RING - 1)];
    section.state = 'after';
  }

  private maybeForce(section: Section, k: number): void {
    if (k - section.segTrigger >= this.maxActiveN) this.forceClose(section);
  }

  private forceClose(section: Section): void {
    const k = this.k;
    section.settleStart = k - this.settleN + 1;
    section.settleMs = this.times[section.settleStart & (RING - 1)];
    for (const p of section.plates) {
      let sum = 0;
      for (let j = section.settleStart; j <= k; j++) sum += this.at(j, p);
      this.afterSum[p] = sum;
      this.afterCount[p] = this.settleN;
    }
    this.stats.segmentsForced++;
    this.finalize(section, true);
    this.toRest(section);
  }

  private toRest(section: Section): void {
    section.restStart = section.settleStart;
    section.traceMs = [];
    section.traceGrams = [];
    for (const p of section.plates) {
      this.level[p] = this.afterSum[p] / this.afterCount[p];
      this.over[p] = 0;
    }
    section.state = 'rest';
  }

  private after(section: Section, k: number): void {
    let triggered = false;
    for (const p of section.plates) {
      if (!this.usable(p)) continue;
      const dev = this.at(k, p) - this.afterSum[p] / this.afterCount[p];
      const thr = this.threshold(p);
      if (Math.abs(dev) > thr) {
        this.over[p]++;
        if (this.over[p] >= 2 || Math.abs(dev) > 3 * thr) triggered = true;
      } else this.over[p] = 0;
    }
    if (triggered) {
      // Weight went up and something moves again before the after window is full: most likely a
      // lean caught at a still moment, not a put. Keep the segment open; a real put shows up when
      // the shelf truly rests. (Picks are never held back: rapid successive picks must stay apart.)
      let rise = 0;
      for (const p of section.plates)
        if (this.usable(p) && this.segHealth[p] === 'ok') rise += this.afterSum[p] / this.afterCount[p] - this.before[p];
      if (rise > CHANGE_MIN_GRAMS && k - section.segTrigger < this.maxActiveN) {
        section.holds.push({
          settleMs: section.settleMs,
          untilMs: this.times[(section.afterEnd + 1) & (RING - 1)],
          means: Float64Array.from({ length: this.n }, (_, p) => (this.sectionOfPlate[p] === section ? this.afterSum[p] / this.afterCount[p] : Number.NaN)),
          count: this.afterCount[section.plates[0]],
        });
        section.segTrigger = k;
        for (const p of section.plates) this.over[p] = 0;
        section.state = 'active';
        return;
      }
      // Otherwise close with the resting readings so far (the last two ticks, which may be the new
      // movement, were never added); they become the next segment's "before".
      const means = Float64Array.from({ length: this.n }, (_, p) => this.afterSum[p] / this.afterCount[p]);
      this.finalize(section, false);
      section.restStart = section.settleStart;
      this.open(section, k, (p) => means[p]);
      return;
    }
    // Readings join the average two ticks late, once they cannot be the start of a new movement.
    while (section.afterEnd < k - 2) {
      section.afterEnd++;
      for (const p of section.plates) {
        this.afterSum[p] += this.at(section.afterEnd, p);
        this.afterCount[p]++;
      }
    }
    if (this.afterCount[section.plates[0]] >= this.afterN) {
      this.finalize(section, false);
      this.toRest(section);
    }
  }

  private finalize(section: Section, forced: boolean): void {
    const before = (p: number) => ({ mean: this.before[p], count: this.beforeCount[p] });
    const after = (p: number) => ({ mean: this.afterSum[p] / this.afterCount[p], count: this.afterCount[p] });
    const changes = this.changesBetween(section, before, after, forced);
    // Times were kept when they happened: a long segment outlives the ring of recent ticks.
    const piece = { idMs: Math.round(section.segStartMs), endMs: Math.round(section.settleMs), forced };
    if (changes.some(plateChanged)) this.publish(section, changes, piece);
    else if (forced || !this.laidDownAndLifted(section, before, after)) this.stats.segmentsWithoutChange++;
  }

  /**
   * Each plate of the section's net change from one stretch of resting readings to another (mean and
   * how many readings), with its uncertainty; NaN for plates of other sections and unreadable ones.
   */
  private changesBetween(section: Section, from: (p: number) => Resting, to: (p: number) => Resting, forced: boolean): PlateChange[] {
    return Array.from({ length: this.n }, (_, p) => {
      const readable = this.segHealth[p] === 'ok' || this.segHealth[p] === 'noisy';
      if (this.sectionOfPlate[p] !== section || !readable || !this.usable(p)) return { deltaGrams: Number.NaN, sigmaGrams: Number.NaN };
      const a = from(p);
      const b = to(p);
      let sigma = this.health[p].workingNoiseGrams * Math.sqrt(1 / a.count + 1 / b.count);
      if (forced) sigma += this.windowSd(p);
      return { deltaGrams: b.mean - a.mean, sigmaGrams: sigma };
    });
  }

  /**
   * Every explanation of a net change on the section's plates, likeliest first (none: unexplained):
   * one or two items, and on several plates the plate-by-plate readings of three items or more (one
   * hand's grab of two products while another takes from the next plate), all by one score
   * (explainWithPlatesApart).
   */
  private explainChanges(changes: PlateChange[], nowMs: number): Explanation[] {
    const plates = changedPlates(changes);
    return explainWithPlatesApart({ plates: changes, lanes: this.lanes, candidateLanes: this.lanesOn(plates), products: this.opts.index.products, inventory: this.inventory, nowMs }, plates);
  }

  /** The lanes resting on any of these plates. */
  private lanesOn(plates: readonly number[]): number[] {
    return [...new Set(plates.flatMap((p) => this.lanesOfPlate[p]))];
  }

  /**
   * A segment that ends where it began, but rested in between at a weight a unit put down explains:
   * a unit laid down and lifted again before the shelf could settle (a shopper puts an item back and
   * another takes it at once). Published as the put and the pick, so that the putter's cart gives
   * the unit up and the taker's gets it. Such a segment is one hand's put, one stillness (the unit
   * lies untouched) and one lift, each movement within HAND_MOVE_MAX_MS; a hand resting on the plate
   * shifts (several stillnesses) or rests long before or after, and like a lean that weighs like no
   * unit it yields nothing, as before. Fusion tells a lean caught still and lifted off again (one
   * hand both times) from two shoppers.
   */
  private laidDownAndLifted(section: Section, before: (p: number) => Resting, after: (p: number) => Resting): boolean {
    if (section.holds.length !== 1) return false;
    const [hold] = section.holds;
    if (hold.settleMs - section.segStartMs > HAND_MOVE_MAX_MS || section.settleMs - hold.untilMs > HAND_MOVE_MAX_MS) return false;
    const held = (p: number) => ({ mean: hold.means[p], count: hold.count });
    const put = this.changesBetween(section, before, held, false);
    if (!put.some(plateChanged)) return false;
    const explanations = this.explainChanges(put, hold.settleMs);
    const best = explanations[0];
    if (!best || best.items.length !== 1 || best.items[0].sign < 0 || best.posterior < HOLD_MIN_POSTERIOR) return false;
    this.publish(section, put, { idMs: Math.round(section.segStartMs), endMs: Math.round(hold.settleMs), forced: false }, explanations);
    const lift = this.changesBetween(section, held, after, false);
    this.publish(section, lift, { idMs: Math.round(hold.untilMs), startMs: Math.round(hold.untilMs), from: hold.means, endMs: Math.round(section.settleMs), forced: false });
    this.stats.laidDownAndLifted++;
    return true;
  }

  /** Publishes a net change of the section's plates as shelf events (one a moved lane), and follows it in the shelf's inventory. */
  private publish(section: Section, changes: PlateChange[], piece: Piece, explanations = this.explainChanges(changes, piece.endMs)): void {
    const changed = changedPlates(changes);
    if (explanations.length === 0) {
      this.stats.events++;
      this.publishUnmoved(this.buildUnexplainedEvent(section, changes, changed, this.lanesOn(changed), piece), piece.endMs);
      return;
    }
    const best = explanations[0];
    const items = best.items.filter((item) => !isLean(item));
    // Several items at once: the shelf's whole explanations go with each, for fusion to weigh by what the shoppers there carry.
    const joint = items.length > 1 ? jointExplanations(explanations) : undefined;
    for (const [i, item] of items.entries()) {
      const event = this.buildEvent(section, item, i, best, explanations, changes, changed, piece);
      this.stats.events++;
      this.opts.onEvent(joint ? { ...event, explanations: joint } : event);
      const { productId, quantity } = item;
      const move: StockMove =
        item.sign < 0 ? { kind: 'pick', laneId: item.stockLaneId, productId, quantity, atMs: piece.endMs } : { kind: 'put', laneId: item.laneId, productId, quantity, atMs: piece.endMs };
      this.steps.push({ kind: 'move', shelfEventId: event.shelfEventId, move });
      this.move(event.shelfEventId, move);
    }
    // A hand resting on a plate beside the item: what it is there, a change no product explains
    // (fusion waits for the hand to lift off, or finds it too light for an item). It moves no stock.
    const lean = best.items.find(isLean);
    if (lean) {
      const plate = lean.leanPlate!;
      const nth = items.filter((item) => item.sign > 0).length + 1;
      this.stats.events++;
      this.publishUnmoved(this.buildUnexplainedEvent(section, onPlate(changes, plate), [plate], this.lanesOn([plate]), piece, nth), piece.endMs);
    }
  }

  /** Publishes an event of a change no product explained, and remembers that it moved nothing (see `unmoved`). */
  private publishUnmoved(event: ShelfEventDetected, atMs: number): void {
    this.opts.onEvent(event);
    this.steps.push({ kind: 'unmoved', shelfEventId: event.shelfEventId, atMs });
    this.noMove(event.shelfEventId, atMs);
  }

  /**
   * Makes an event's stock move and remembers it for a re-reading, unless the stock holds that event
   * already (restored from a snapshot that has it, or replaced by a re-reading): the same change is
   * never counted twice. Forgets what is older than REREAD_KEEP_MS.
   */
  private move(shelfEventId: string, move: StockMove): void {
    if (this.moves.has(shelfEventId) || this.replaced.has(shelfEventId)) return;
    this.inventory.apply(move);
    this.moves.set(shelfEventId, move);
    this.changes++;
    this.forgetBefore(move.atMs - REREAD_KEEP_MS);
  }

  /**
   * Remembers an event that moved no stock (see `unmoved`), unless a re-reading replaced it already.
   * A stock snapshot is due then, since it carries what is remembered.
   */
  private noMove(shelfEventId: string, atMs: number): void {
    if (this.unmoved.has(shelfEventId) || this.replaced.has(shelfEventId)) return;
    this.unmoved.set(shelfEventId, atMs);
    this.changes++;
    this.forgetBefore(atMs - REREAD_KEEP_MS);
  }

  /** Forgets moves, events that moved nothing, replaced events and steps that ended before `atMs`. */
  private forgetBefore(atMs: number): void {
    for (const [id, old] of this.moves) {
      if (old.atMs >= atMs) break;
      this.moves.delete(id);
    }
    for (const [id, endMs] of this.unmoved) {
      if (endMs >= atMs) break;
      this.unmoved.delete(id);
    }
    for (const [id, endMs] of this.replaced) {
      if (endMs >= atMs) break;
      this.replaced.delete(id);
    }
    const stale = this.steps.findIndex((step) => (step.kind === 'move' ? step.move.atMs : step.atMs) >= atMs);
    this.steps.splice(0, stale < 0 ? this.steps.length : stale);
  }

  /**
   * Fusion read a change of several items otherwise than this shelf did, by what the shoppers there
   * carry (`fusion.change-reexplained`): the stock moves of the replaced events are taken back and
   * those of fusion's reading made, so that later changes on the shelf are explained with what it
   * now holds (a unit fusion read as put back on a lane can be taken from it again). Each of fusion's
   * items moves its likeliest product. A reviewer's decision on a change no product explained
   * replaces an event that moved nothing (`unmoved`). Returns false, changing nothing, when this
   * detector did not make every replaced event: another instance did, a restart came between, the
   * events were forgotten, or the re-reading was taken already (a redelivery).
   */
  reread(replaces: readonly string[], items: readonly RereadItem[]): boolean {
    const replaced = replaces.map((id): { move?: StockMove; atMs: number } | undefined => {
      const move = this.moves.get(id);
      if (move) return { move, atMs: move.atMs };
      const atMs = this.unmoved.get(id);
      return atMs === undefined ? undefined : { atMs };
    });
    if (replaced.some((event) => event === undefined)) return false;
    // A reading naming a lane this shelf does not have is refused before anything changes.
    for (const item of items)
      if (!this.lanes.some((l) => l.laneId === item.laneId))
        throw new WalkoutError('MESSAGE_INVALID', `fusion's reading of ${replaces.join(', ')} puts ${item.shelfEventId} on lane ${item.laneId}, which shelf ${this.shelfId} does not have`);
    const atMs = Math.max(...replaced.map((event) => event!.atMs));
    this.steps.push({ kind: 'reread', replaces, items, atMs });
    for (const [i, event] of replaced.entries()) {
      if (event!.move) this.inventory.revert(event!.move);
      this.moves.delete(replaces[i]);
      this.unmoved.delete(replaces[i]);
      this.replaced.set(replaces[i], event!.atMs);
    }
    for (const item of items) {
      const laneId = item.kind === 'pick' ? this.stockLaneOf(item.laneId, item.productId) : item.laneId;
      this.move(item.shelfEventId, { kind: item.kind, laneId, productId: item.productId, quantity: item.quantity, atMs });
    }
    this.changes++;
    this.stats.rereads++;
    return true;
  }

  /** Whether a re-reading replacing these events was taken already (here, or before the stock this detector restored). */
  rereadTaken(replaces: readonly string[]): boolean {
    return replaces.every((id) => this.replaced.has(id));
  }

  /**
   * What the shelf holds and what it remembers for fusion's re-readings, for a stock snapshot
   * (`shelf.stock-snapshot`): restore() on a detector started fresh at the same restart point makes
   * it go on as this one does.
   */
  stock(): ShelfStock {
    return {
      ...this.inventory.state(),
      moves: [...this.moves].map(([shelfEventId, move]) => ({ shelfEventId, ...move })),
      unmoved: [...this.unmoved].map(([shelfEventId, atMs]) => ({ shelfEventId, atMs })),
      replaced: [...this.replaced].map(([shelfEventId, atMs]) => ({ shelfEventId, atMs })),
    };
  }

  /**
   * Takes up a stock snapshot of the shelf's at `resumeFromMs` (checked first: nothing changes when
   * it does not fit). A detector started fresh there, the usual case, holds just that stock. One that
   * had already judged samples when the snapshot came (it came late) makes its own steps again on it:
   * its events' moves from `resumeFromMs` on (the snapshot speaks for every change before), and its
   * re-readings; what the snapshot holds already changes nothing (move, reread). Returns how many
   * stock changes that made (0: the stock is the snapshot's as it came).
   */
  restore(stock: ShelfStock, resumeFromMs: number, source: string): number {
    checkShelfStock(this.opts.index, this.shelfId, stock, source);
    this.inventory.restore(stock, source);
    this.moves.clear();
    for (const { shelfEventId, ...move } of stock.moves) this.moves.set(shelfEventId, move);
    this.unmoved.clear();
    for (const { shelfEventId, atMs } of stock.unmoved ?? []) this.unmoved.set(shelfEventId, atMs);
    this.replaced.clear();
    for (const { shelfEventId, atMs } of stock.replaced) this.replaced.set(shelfEventId, atMs);
    const restored = ++this.changes;
    for (const step of this.steps.splice(0)) {
      if (step.kind === 'reread') this.reread(step.replaces, step.items);
      else if (step.kind === 'unmoved') {
        if (step.atMs < resumeFromMs) continue;
        this.steps.push(step);
        this.noMove(step.shelfEventId, step.atMs);
      } else if (step.move.atMs >= resumeFromMs) {
        this.steps.push(step);
        this.move(step.shelfEventId, step.move);
      }
    }
    return this.changes - restored;
  }

  /** Where a unit of a product taken from a lane was kept: the lane, or a twin lane that holds the product (a misplaced item). */
  private stockLaneOf(laneId: string, productId: string): string {
    const lane = this.lanes.findIndex((l) => l.laneId === laneId);
    const holds = (id: string) => {
      const held = this.inventory.lane(id);
      return held.productId === productId ? held.stock > 0 : (held.misplaced.get(productId) ?? 0) > 0;
    };
    if (holds(laneId)) return laneId;
    const twin = twinLanes(this.lanes, lane).find((t) => holds(this.lanes[t].laneId));
    return twin === undefined ? laneId : this.lanes[twin].laneId;
  }

  private windowSd(p: number): number {
    let sum = 0;
    let sumSq = 0;
    for (let j = this.k - this.settleN + 1; j <= this.k; j++) {
      const x = this.at(j, p);
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / this.settleN;
    return Math.sqrt(Math.max(0, sumSq / this.settleN - mean * mean));
  }

  private buildEvent(
    section: Section,
    item: Item,
    position: number,
    best: Explanation,
    explanations: Explanation[],
    changes: PlateChange[],
    changed: number[],
    piece: Piece,
  ): ShelfEventDetected {
    const lane = this.lanes[item.lane];
    // A hand resting on another plate (a lean) is no item: the item beside it is alone, on its own plates.
    const real = (e: Explanation) => e.items.filter((x) => !isLean(x));
    const besideLean = best.items.some(isLean);
    const single = real(best).length === 1;
    // Plates of this item: its lane's plates, and for a lone item every plate that changed.
    const plates = new Set<number>();
    for (let p = 0; p < this.n; p++) if (lane.shares[p] > 0) plates.add(p);
    if (single && !besideLean) for (const p of changed) plates.add(p);
    const slots = [...plates].sort((a, b) => a - b);

    // What moved: for a lone item, every lone explanation of the same direction, by product and
    // quantity; for one of two items, every explanation that moves something on this item's lane.
    const byProduct = new Map<string, { productId: string; quantity: number; probability: number }>();
    const byLane = new Map<string, number>();
    for (const e of explanations) {
      const items = real(e);
      const matches = single ? (items.length === 1 && items[0].sign === item.sign ? [items[0]] : []) : sameLaneItem(items, item);
      for (const x of matches) {
        const key = `${x.productId}|${x.quantity}`;
        const entry = byProduct.get(key) ?? { productId: x.productId, quantity: x.quantity, probability: 0 };
        entry.probability += e.posterior;
        byProduct.set(key, entry);
        byLane.set(x.laneId, (byLane.get(x.laneId) ?? 0) + e.posterior);
      }
    }
    const hypotheses: ProductHypothesis[] = [...byProduct.values()]
      .sort((a, b) => b.probability - a.probability)
      .slice(0, MAX_HYPOTHESES)
      .map((h) => ({ ...h, probability: Math.min(1, Math.max(0, Math.round(h.probability * 1e4) / 1e4)) }));
    // The item's own hypothesis leads even if split across lanes it narrowly loses the sum.
    const laneIds = [lane.laneId, ...[...byLane].filter(([id, p]) => id !== lane.laneId && p >= LANE_ALTERNATIVE_MIN).map(([id]) => id)];

    let deltaGrams = 0;
    let variance = 0;
    for (const p of slots) {
      if (!Number.isFinite(changes[p].deltaGrams)) continue;
      deltaGrams += changes[p].deltaGrams;
      variance += changes[p].sigmaGrams ** 2;
    }
    if (!single) {
      // Two items share plates: give this one its predicted weight plus its part of what is left over.
      const predicted = best.items.map((x) => x.sign * x.meanGrams);
      const observed = changes.reduce((s, c) => s + (Number.isFinite(c.deltaGrams) ? c.deltaGrams : 0), 0);
      const total = predicted.reduce((s, x) => s + Math.abs(x), 0);
      const residual = observed - predicted.reduce((s, x) => s + x, 0);
      deltaGrams = predicted[position] + (residual * Math.abs(predicted[position])) / total;
    }
    const dof = slots.filter((p) => Number.isFinite(changes[p].deltaGrams)).length;
    const fit = Math.exp(-Math.max(0, best.chi2 - dof - 3) / 6);
    const top = hypotheses[0]?.probability ?? 0;
    const kind = item.sign < 0 ? 'pick' : 'put';
    return this.shelfEvent({
      section,
      nth: real(best).slice(0, position).filter((x) => x.sign === item.sign).length + 1,
      kind,
      slots,
      laneIds,
      deltaGrams,
      // As measured: the plates' noise. A product's own spread is for each reading of the change to
      // add (fusion weighs every product it considers by its own); only an item split from another on
      // shared plates, whose weight is the shelf's prediction in part, keeps its product's.
      sigmaGrams: Math.sqrt(variance + (single ? 0 : item.varGrams)),
      hypotheses,
      confidence: (health) => Math.round(Math.min(1, top * fit * HEALTH_CONFIDENCE[health] * (piece.forced ? 0.5 : 1)) * 1e4) / 1e4,
      piece,
      // Timed alone only: with other items on its plates the trace is theirs too.
      changes: single ? changes : undefined,
    });
  }

  /** A change no product explains: where and how much, and nothing about what. */
  private buildUnexplainedEvent(section: Section, changes: PlateChange[], changed: number[], candidateLanes: number[], piece: Piece, nth = 1): ShelfEventDetected {
    let deltaGrams = 0;
    let variance = 0;
    for (const p of changed) {
      deltaGrams += changes[p].deltaGrams;
      variance += changes[p].sigmaGrams ** 2;
    }
    return this.shelfEvent({
      section,
      // The first of its kind in the segment, as an explained item would be: a restarted shelf that
      // has lost its stock belief may explain the same change differently, and must name it the same.
      // A lean beside an item is named after that item's kind's items.
      nth,
      kind: deltaGrams < 0 ? 'pick' : 'put',
      slots: changed,
      laneIds: candidateLanes.map((lane) => this.lanes[lane].laneId),
      deltaGrams,
      sigmaGrams: Math.sqrt(variance),
      plateDeltaGrams: changed.map((p) => Math.round(changes[p].deltaGrams * 10) / 10),
      hypotheses: [],
      confidence: () => 0,
      piece,
      changes,
    });
  }

  /**
   * One shelf event on the plates at `slots`. Its id says what the event is, not how many came
   * before: the shelf, the segment's start, the kind and which item of that kind in the segment (and
   * the section, after the shelf's first), so a restart or a replay names it the same way and
   * consumers dedupe the copies (a lift within the segment is named by when it began). It starts
   * when the first of its plates moved (the segment's start if none crossed the threshold; a lift,
   * when it began) and is as healthy as the worst of its plates' cells over the segment and now.
   */
  private shelfEvent(fields: {
    section: Section;
    nth: number;
    kind: 'pick' | 'put';
    slots: number[];
    laneIds: string[];
    deltaGrams: number;
    sigmaGrams: number;
    /** An unexplained change's own change on each plate of `slots`, grams. */
    plateDeltaGrams?: number[];
    hypotheses: ProductHypothesis[];
    /** The confidence once the health of the event's plates is known: a poor cell lowers it. */
    confidence: (health: CellHealth) => number;
    piece: Piece;
    /** Every plate's net change over the piece, when the event is to be timed (transitionOf). */
    changes?: PlateChange[];
  }): ShelfEventDetected {
    const { piece } = fields;
    const eventId = `se-${this.shelfId}-${piece.idMs}-${fields.kind}-${fields.nth}${fields.section.tag}`;
    const movedPlates = fields.slots.filter((p) => !Number.isNaN(this.firstMove[p]));
    const firstMoveMs = movedPlates.length > 0 ? Math.round(Math.min(...movedPlates.map((p) => this.firstMove[p]))) : piece.idMs;
    const startMs = Math.max(0, Math.min(piece.startMs ?? firstMoveMs, piece.endMs));
    const health = worstHealth(fields.slots.map((p) => worstHealth([this.segHealth[p], this.health[p].health])));
    const transitionMs = fields.changes && this.transitionOf(fields.section, fields.slots, fields.changes, piece);
    return {
      schemaVersion: SCHEMA_VERSION,
      eventId,
      storeId: this.opts.index.store.id,
      ts: startMs,
      shelfEventId: eventId,
      shelfId: this.shelfId,
      plateIds: fields.slots.map((p) => this.plateIds[p]),
      laneIds: fields.laneIds,
      kind: fields.kind,
      startMs,
      endMs: Math.max(0, piece.endMs),
      deltaGrams: Math.round(fields.deltaGrams * 10) / 10,
      sigmaGrams: Math.round(fields.sigmaGrams * 100) / 100,
      hypotheses: fields.hypotheses,
      confidence: fields.confidence(health),
      ...(fields.plateDeltaGrams ? { plateDeltaGrams: fields.plateDeltaGrams } : {}),
      ...(transitionMs ? { transitionMs } : {}),
      health,
    };
  }

  /**
   * When the summed readings of `slots` went from TRANSITION_FROM to TRANSITION_TO of their net
   * change over the piece, from the segment's trace (each reading the mean of TRANSITION_SMOOTH_TICKS
   * ticks, so one noisy tick crosses nothing): one hand's grab of several units at once is one quick
   * step, two hands' are two steps as far apart as the hands' lifts. Undefined when the change is too
   * small to time or the trace does not hold the piece. Only an event that is its piece's one item is
   * timed (buildEvent): another item's step on the same plates would read as a second hand's.
   */
  private transitionOf(section: Section, slots: readonly number[], changes: readonly PlateChange[], piece: Piece): [number, number] | undefined {
    const plates = slots.filter((p) => this.sectionOfPlate[p] === section && Number.isFinite(changes[p].deltaGrams));
    const net = plates.reduce((sum, p) => sum + changes[p].deltaGrams, 0);
    if (plates.length === 0 || Math.abs(net) < TRANSITION_MIN_GRAMS) return undefined;
    const column = plates.map((p) => section.plates.indexOf(p));
    const baseline = plates.map((p) => (piece.from ? piece.from[p] : this.before[p]));
    const fromMs = piece.startMs ?? section.segStartMs;
    const first = section.traceMs.findIndex((ms) => ms >= fromMs);
    if (first < 0 || section.traceMs[first] > fromMs + TRANSITION_SMOOTH_TICKS * 1000 / this.rate) return undefined;
    const moved = (j: number) => Math.sign(net) * column.reduce((sum, c, i) => sum + section.traceGrams[j][c] - baseline[i], 0);
    let window = 0;
    let crossedFrom: number | undefined;
    for (let j = first; j < section.traceMs.length && section.traceMs[j] <= piece.endMs; j++) {
      window += moved(j);
      if (j - first >= TRANSITION_SMOOTH_TICKS) window -= moved(j - TRANSITION_SMOOTH_TICKS);
      if (j - first < TRANSITION_SMOOTH_TICKS - 1) continue;
      const level = window / TRANSITION_SMOOTH_TICKS;
      const at = section.traceMs[j - (TRANSITION_SMOOTH_TICKS >> 1)];
      if (crossedFrom === undefined && level >= TRANSITION_FROM * Math.abs(net)) crossedFrom = at;
      if (crossedFrom !== undefined && level >= TRANSITION_TO * Math.abs(net)) return [Math.round(crossedFrom), Math.round(at)];
    }
    return undefined;
  }

  private reportHealth(p: number, ts: number): void {
    const monitor = this.health[p];
    this.opts.onHealth?.({
      schemaVersion: SCHEMA_VERSION,
      eventId: `dh-${monitor.loadCellId}-${Math.round(ts)}-${monitor.health}`,
      storeId: this.opts.index.store.id,
      ts: Math.max(0, Math.round(ts)),
      deviceId: monitor.loadCellId,
      deviceKind: 'load-cell',
      health: monitor.health,
      detail: `${monitor.loadCellId} on plate ${this.plateIds[p]} of shelf ${this.shelfId}: ${monitor.detail}`,
    });
  }
}
