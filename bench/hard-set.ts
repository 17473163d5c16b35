/**
 * The hard evaluation set in one command: records the hard 40-shopper kiosk runs of the given seeds
 * (load cells and truth, no video) where they are not recorded yet, scores each with `walkout eval
 * receipts` (people from the true skeletons with 0.05 m of tracker-like error), and prints, per seed
 * and per group of seeds, the visits, the receipts exact after and before review, the review items,
 * reviews per 1000 visits, the worst run's calibration error and that of all the runs' decisions
 * pooled (the set's own), and the worst pick-to-cart p99. Issue 16's targets are read off these
 * figures (docs/results.md, Receipts).
 *
 *   node --import tsx bench/hard-set.ts --dir DIR [--seeds 1-5,11-15,16-20,21-25] [--jobs 2]
 *     [--review-after SECONDS] [--out FILE] [--compare FILE] [--keep DIR]
 *
 * --dir       where the recordings are (DIR/h<seed>); missing ones are recorded there first
 * --seeds     comma-separated seeds or ranges; each item is a group in the table
 * --jobs      simulations and scorings run at once (default 2, one a core here)
 * --review-after  a reviewer in each replay decides review items by the truth this long after they
 *             open (eval receipts --review-after): the stock and fusion follow the decisions
 * --out       writes the figures per seed as JSON, for a later --compare
 * --compare   an earlier --out: prints the seeds whose figures differ, and the totals' change
 * --keep      also writes each seed's whole report, with every visit and review item (`eval receipts
 *             --json --details`), to DIR/h<seed>.json, for reading what went wrong without scoring again
 *
 * The recordings depend on the simulator's code: after a simulator change, record into a new
 * folder. Scoring runs this checkout's code, so comparing two commits means two checkouts (or a
 * tree of each, `git archive`) scoring the same recordings.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pooledCalibration, type CalibrationBin } from '../libs/fusion/calibration.eval.ts';

/** What one seed's run scored. */
export interface SeedFigures {
  visits: number;
  exact: number;
  exactBeforeReview: number;
  reviews: number;
  /** The worst run's expected calibration error (for a group; a seed's own for a seed). */
  calibrationError: number;
  /**
   * The reliability table of the decisions of every run in the figures, pooled (see
   * pooledCalibration): the hard set's calibration taken as one set. Absent from figures written
   * before it was kept, and from a group with such a seed.
   */
  calibration?: CalibrationBin[];
  latencyP99Ms: number;
}

export interface SeedGroup {
  label: string;
  seeds: number[];
}

/** `1-5,11,16-20` as groups (each comma-separated item one), refusing anything else by what it is. */
export function parseSeedGroups(text: string): SeedGroup[] {
  const groups = text.split(',').map((item): SeedGroup => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
    if (!m) throw new Error(`--seeds: "${item}" is not a seed or a range of seeds (such as 1-5)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`--seeds: the range "${item.trim()}" runs backwards`);
    return { label: from === to ? String(from) : `${from}-${to}`, seeds: Array.from({ length: to - from + 1 }, (_, k) => from + k) };
  });
  const seen = new Set<number>();
  for (const seed of groups.flatMap((g) => g.seeds)) {
    if (seen.has(seed)) throw new Error(`--seeds: seed ${seed} is listed twice`);
    seen.add(seed);
  }
  return groups;
}

/** The figures of one `walkout eval receipts --json` answer, refused when a key is missing. */
export function seedFigures(report: Record<string, unknown>, source: string): SeedFigures {
  const number = (key: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${source}: "${key}" is not a number in the eval receipts report`);
    return value;
  };
  const visits = number('visits', report.visits);
  const latency = (report.latency ?? {}) as Record<string, unknown>;
  return {
    visits,
    exact: Math.round(number('exactMatch', report.exactMatch) * visits),
    exactBeforeReview: Math.round(number('exactMatchBeforeReview', report.exactMatchBeforeReview) * visits),
    reviews: number('reviews', report.reviews),
    calibrationError: number('calibrationError', report.calibrationError),
    ...(Array.isArray(report.calibration) ? { calibration: report.calibration as CalibrationBin[] } : {}),
    latencyP99Ms: latency.count === 0 ? 0 : number('latency.p99Ms', latency.p99Ms),
  };
}

/** Figures summed over seeds: counts added, calibration error and p99 latency the worst of them, reliability tables pooled. */
export function sumFigures(figures: readonly SeedFigures[]): SeedFigures {
  const tables = figures.map((f) => f.calibration);
  const pooled = tables.length > 0 && tables.every((t) => t !== undefined) ? { calibration: pooledCalibration(tables).calibration } : {};
  const sum = figures.reduce(
    (sum, f) => ({
      visits: sum.visits + f.visits,
      exact: sum.exact + f.exact,
      exactBeforeReview: sum.exactBeforeReview + f.exactBeforeReview,
      reviews: sum.reviews + f.reviews,
      calibrationError: Math.max(sum.calibrationError, f.calibrationError),
      latencyP99Ms: Math.max(sum.latencyP99Ms, f.latencyP99Ms),
    }),
    { visits: 0, exact: 0, exactBeforeReview: 0, reviews: 0, calibrationError: 0, latencyP99Ms: 0 },
  );
  return { ...sum, ...pooled };
}

/** One table row: exact after / before review / review items, the shares, reviews per 1000, the worst and the pooled ECE, and p99. */
export function figuresRow(label: string, f: SeedFigures): string {
  const share = (n: number) => (f.visits ? ((100 * n) / f.visits).toFixed(1) : '-');
  const per1000 = f.visits ? ((1000 * f.reviews) / f.visits).toFixed(1) : '-';
  const pooled = f.calibration ? pooledCalibration([f.calibration]).calibrationError.toFixed(4) : '-';
  return `| ${label} | ${f.visits} | ${f.exact}/${f.exactBeforeReview}/${f.reviews} | ${share(f.exact)} % | ${per1000} | ${f.calibrationError.toFixed(4)} | ${pooled} | ${f.latencyP99Ms} |`;
}

export const TABLE_HEAD = [
  '| seeds | visits | exact after / before review / review items | exact | reviews per 1000 | worst ECE | pooled ECE | worst p99 ms |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];

/** The seeds whose figures differ between two runs of the set, one line each, and the totals' change. */
export function compareFigures(before: Readonly<Record<string, SeedFigures>>, after: Readonly<Record<string, SeedFigures>>): string[] {
  const lines: string[] = [];
  const counts = (f: SeedFigures) => `${f.exact}/${f.exactBeforeReview}/${f.reviews} of ${f.visits}`;
  const seeds = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort((a, b) => Number(a) - Number(b));
  for (const seed of seeds) {
    const [b, a] = [before[seed], after[seed]];
    if (!b || !a) lines.push(`seed ${seed}: only in the ${b ? 'earlier' : 'new'} figures`);
    else if (counts(b) !== counts(a)) lines.push(`seed ${seed}: ${counts(b)} -> ${counts(a)}`);
  }
  const common = seeds.filter((seed) => before[seed] && after[seed]);
  const [b, a] = [sumFigures(common.map((s) => before[s])), sumFigures(common.map((s) => after[s]))];
  lines.push(`${common.length} seeds in both: exact ${b.exact} -> ${a.exact}, before review ${b.exactBeforeReview} -> ${a.exactBeforeReview}, review items ${b.reviews} -> ${a.reviews}`);
  return lines;
}

/** Runs `node bin/walkout.js ARGS`; resolves with its stdout, rejects with the end of its stderr. */
function walkout(args: string[]): Promise<string> {
  const bin = fileURLToPath(new URL('../bin/walkout.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`walkout ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`))));
  });
}

/** Runs `work` on every item, `jobs` at a time, in order of the items. */
async function eachAtMost<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await work(items[k]).then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return results;
}

async function main() {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, seeds: { type: 'string' }, jobs: { type: 'string' }, 'review-after': { type: 'string' }, out: { type: 'string' }, compare: { type: 'string' }, keep: { type: 'string' } },
  });
  if (!values.dir) throw new Error('--dir DIR is needed: where the recordings are, or are to be recorded (DIR/h<seed>)');
  const jobs = Number(values.jobs ?? 2);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: "${values.jobs}" is not a whole number of jobs >= 1`);
  const earlier = values.compare ? (JSON.parse(readFileSync(values.compare, 'utf8')) as { seeds: Record<string, SeedFigures> }).seeds : undefined;
  const groups = parseSeedGroups(values.seeds ?? '1-5,11-15,16-20,21-25');
  const seeds = groups.flatMap((g) => g.seeds);
  const dirOf = (seed: number) => path.join(values.dir!, `h${seed}`);

  const missing = seeds.filter((seed) => !existsSync(path.join(dirOf(seed), 'manifest.json')));
  if (missing.length) process.stderr.write(`recording seeds ${missing.join(', ')} into ${values.dir}\n`);
  const recorded = await eachAtMost(missing, jobs, (seed) =>
    walkout(['sim', '--random', '--shoppers', '40', '--minutes', '8', '--difficulty', 'hard', '--store', 'kiosk', '--seed', String(seed), '--no-video', '--out', dirOf(seed)]),
  );
  const failed = new Map<number, unknown>();
  recorded.forEach((r, k) => r.status === 'rejected' && failed.set(missing[k], r.reason));

  const scoring = seeds.filter((seed) => !failed.has(seed));
  const reviewing = values['review-after'] === undefined ? [] : ['--review-after', values['review-after']];
  const keep = values.keep;
  if (keep) mkdirSync(keep, { recursive: true });
  const scored = await eachAtMost(scoring, jobs, async (seed) => {
    const report = await walkout(['eval', 'receipts', dirOf(seed), '--json', ...(keep ? ['--details'] : []), ...reviewing]);
    if (keep) writeFileSync(path.join(keep, `h${seed}.json`), report);
    return seedFigures(JSON.parse(report) as Record<string, unknown>, dirOf(seed));
  });
  const figures: Record<string, SeedFigures> = {};
  scored.forEach((r, k) => (r.status === 'fulfilled' ? (figures[scoring[k]] = r.value) : failed.set(scoring[k], r.reason)));

  const lines = [...TABLE_HEAD];
  for (const seed of seeds) if (figures[seed]) lines.push(figuresRow(String(seed), figures[seed]));
  const groupLines = groups.filter((g) => g.seeds.length > 1).map((g) => figuresRow(`**${g.label}**`, sumFigures(g.seeds.flatMap((s) => (figures[s] ? [figures[s]] : [])))));
  lines.push(...groupLines, figuresRow('**all**', sumFigures(Object.values(figures))));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (earlier) process.stdout.write(`\nagainst ${values.compare}:\n${compareFigures(earlier, figures).join('\n')}\n`);
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ dir: values.dir, seeds: figures }, null, 2)}\n`);
  for (const [seed, reason] of failed) process.stderr.write(`seed ${seed} (${dirOf(seed)}): ${reason instanceof Error ? reason.message : String(reason)}\n`);
  if (failed.size) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`hard-set: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
