/**
 * Health of one load cell, judged from its own samples: a dead cell reads zero (or nothing), a
 * saturated one sits at its capacity, a stuck one repeats one value exactly although it used to show
 * noise, and a wildly noisy one shakes far beyond its rated noise. A cell that is not ok is left out of
 * event detection (noisy cells stay in, with their own large noise) and marks its events low-confidence.
 */

export type CellHealth = 'ok' | 'noisy' | 'stuck' | 'dead' | 'saturated';

/**
 * Noise is measured over blocks of this length; the estimate is a low quantile of the last few blocks,
 * so a few seconds of hands on the plate (blocks full of movement) do not pass for noise. Blocks are
 * cut at whole multiples of this length of store time, not counted from the first sample: a monitor
 * started later (a shelf service restarted after a crash, a replay started midway) measures the same
 * blocks once it has seen NOISE_BLOCKS of them, and so judges every later sample as the first one did.
 */
export const NOISE_BLOCK_MS = 500;
export const NOISE_BLOCKS = 9;
/** Which of the sorted block estimates is taken (0 = the quietest): robust to NOISE_BLOCKS - 1 - this busy blocks. */
export const NOISE_BLOCK_RANK = 2;
/** A cell is noisy past this many times its rated noise, and at least this many grams. */
export const NOISY_FACTOR = 6;
export const NOISY_MIN_GRAMS = 10;
/** Readings within this of zero count as dead; a live cell always carries its plate (about 1 kg). */
export const DEAD_GRAMS = 0.5;
export const DEAD_MS = 100;
export const SATURATED_MS = 50;
/** A cell that repeats one value exactly this long, after it showed at least STUCK_NOISE_GRAMS of noise. */
export const STUCK_MS = 2_000;
export const STUCK_NOISE_GRAMS = 0.2;
/** A cell must look healthy this long before it is trusted again. */
export const RECOVER_MS = 3_000;
/** The working noise never drops below this share of the rated noise. */
export const RATED_NOISE_FLOOR_SHARE = 0.7;
/** The noise floor used for thresholds, grams: below it resolution, not noise, dominates. */
export const NOISE_FLOOR_GRAMS = 0.3;

/** A block with fewer readings than this share of its usual count (a cell that went quiet) measures nothing. */
const MIN_BLOCK_SHARE = 0.5;

/** For normal noise, the median absolute difference of consecutive samples is 0.6745 * sqrt(2) sigma. */
export const MEDIAN_ABS_DIFF_TO_SIGMA = 1 / (0.6745 * Math.SQRT2);

export class CellHealthMonitor {
  health: CellHealth = 'ok';
  /** What was seen, for the operator. */
  detail = 'healthy';
  /** Current estimate of the resting noise, grams (one standard deviation). */
  noiseGrams: number;
  /**
   * The noise the detector works with: the measured one, but never far below the rated one (a cell
   * that repeats readings, or a quiet spell, must not make every small wobble look like movement).
   */
  get workingNoiseGrams(): number {
    return Math.max(this.noiseGrams, RATED_NOISE_FLOOR_SHARE * this.ratedNoiseGrams);
  }
  private readonly blockSize: number;
  private readonly block: Float64Array;
  private blockFill = 0;
  /** Which block of store time (ts / NOISE_BLOCK_MS) is being filled. */
  private blockIndex = Number.NaN;
  /** The block being filled was seen from its start (the first block a monitor sees is not). */
  private blockWhole = false;
  private readonly blockSigmas: number[] = [];
  private last = Number.NaN;
  private deadSince = Number.NaN;
  private saturatedSince = Number.NaN;
  private sameSince = Number.NaN;
  private noiseBeforeSame = 0;
  private healthySince = Number.NaN;

  constructor(
    readonly loadCellId: string,
    private readonly ratedNoiseGrams: number,
    private readonly capacityGrams: number,
    sampleRateHz: number,
  ) {
    this.noiseGrams = Math.max(NOISE_FLOOR_GRAMS, ratedNoiseGrams);
    this.blockSize = Math.max(8, Math.round((NOISE_BLOCK_MS * sampleRateHz) / 1000));
    // Room for a block of store time however the samples fall in it (a late device, a faster one).
    this.block = new Float64Array(this.blockSize * 4);
  }

  /** Takes one sample; returns true when the health changed. */
  push(ts: number, grams: number): boolean {
    const finite = Number.isFinite(grams);
    if (!finite || Math.abs(grams) <= DEAD_GRAMS) {
      if (Number.isNaN(this.deadSince)) this.deadSince = ts;
    } else this.deadSince = Number.NaN;
    if (finite && grams >= this.capacityGrams - DEAD_GRAMS) {
      if (Number.isNaN(this.saturatedSince)) this.saturatedSince = ts;
    } else this.saturatedSince = Number.NaN;
    if (finite && grams === this.last) {
      if (Number.isNaN(this.sameSince)) {
        this.sameSince = ts;
        this.noiseBeforeSame = this.noiseGrams;
      }
    } else this.sameSince = Number.NaN;

    const blockIndex = Math.floor(ts / NOISE_BLOCK_MS);
    if (blockIndex !== this.blockIndex) {
      if (this.blockWhole && this.blockFill >= MIN_BLOCK_SHARE * this.blockSize) this.closeBlock();
      this.blockWhole = !Number.isNaN(this.blockIndex);
      this.blockIndex = blockIndex;
      this.blockFill = 0;
    }
    if (finite && Number.isFinite(this.last) && this.blockFill < this.block.length) this.block[this.blockFill++] = Math.abs(grams - this.last);
    if (finite) this.last = grams;

    const seen = this.judge(ts);
    if (seen.health !== 'ok') this.healthySince = Number.NaN;
    else if (Number.isNaN(this.healthySince)) this.healthySince = ts;
    if (seen.health === this.health) return false;
    // Trust comes back slowly: a flickering cell stays out until it has looked fine for a while.
    if (seen.health === 'ok' && ts - this.healthySince < RECOVER_MS) return false;
    this.health = seen.health;
    this.detail = seen.detail;
    return true;
  }

  private closeBlock(): void {
    const block = this.block.subarray(0, this.blockFill).sort();
    const median = (block[(block.length - 1) >> 1] + block[block.length >> 1]) / 2;
    this.blockSigmas.push(median * MEDIAN_ABS_DIFF_TO_SIGMA);
    if (this.blockSigmas.length > NOISE_BLOCKS) this.blockSigmas.shift();
    const sorted = [...this.blockSigmas].sort((a, b) => a - b);
    // Until the history is full, the median of what there is.
    const rank = sorted.length === NOISE_BLOCKS ? NOISE_BLOCK_RANK : (sorted.length - 1) >> 1;
    this.noiseGrams = Math.max(NOISE_FLOOR_GRAMS, sorted[rank]);
  }

  private judge(ts: number): { health: CellHealth; detail: string } {
    if (!Number.isNaN(this.deadSince) && ts - this.deadSince >= DEAD_MS)
      return { health: 'dead', detail: `reads zero or nothing since ${this.deadSince}` };
    if (!Number.isNaN(this.saturatedSince) && ts - this.saturatedSince >= SATURATED_MS)
      return { health: 'saturated', detail: `reads its capacity of ${this.capacityGrams} g since ${this.saturatedSince}` };
    if (!Number.isNaN(this.sameSince) && ts - this.sameSince >= STUCK_MS && this.noiseBeforeSame >= STUCK_NOISE_GRAMS)
      return { health: 'stuck', detail: `repeats ${this.last} g exactly since ${this.sameSince}` };
    if (this.noiseGrams > Math.max(NOISY_FACTOR * this.ratedNoiseGrams, NOISY_MIN_GRAMS))
      return {
        health: 'noisy',
        detail: `resting noise ${this.noiseGrams.toFixed(1)} g, rated ${this.ratedNoiseGrams} g`,
      };
    return { health: 'ok', detail: 'healthy' };
  }
}

/** Worst first: the health an event reports when several of its cells disagree. */
export const HEALTH_SEVERITY: Record<CellHealth, number> = { ok: 0, noisy: 1, stuck: 2, saturated: 3, dead: 4 };

export function worstHealth(healths: Iterable<CellHealth>): CellHealth {
  let worst: CellHealth = 'ok';
  for (const h of healths) if (HEALTH_SEVERITY[h] > HEALTH_SEVERITY[worst]) worst = h;
  return worst;
}
