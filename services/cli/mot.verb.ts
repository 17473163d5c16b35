import path from 'node:path';
import { WalkoutError } from '../../libs/contracts/index.ts';
import { report, type Verb } from '../../libs/cli/verb.ts';
import { MotAccumulator, motMetrics, sumMotCounts, type MotCounts } from '../../libs/tracking/mot.eval.ts';
import { pairFrames, readMotFile, type MotMatching } from '../../libs/tracking/mot.file.ts';
import { formatMotTable } from '../../libs/tracking/mot.format.ts';

const USAGE = `walkout eval mot <gt.txt> <tracks.txt> [<gt.txt> <tracks.txt> ...] [--iou 0.5 | --distance METRES] [--json]

Scores tracker output against ground truth, both MOTChallenge 2D text files (frame,id,x,y,w,h,conf,
wx,wy,wz; frames 1-based, boxes in pixels), with the CLEAR-MOT and identity metrics everyone
publishes: MOTA, MOTP, IDF1, IDP, IDR, recall, precision, ID switches, fragmentations, mostly
tracked / partly tracked / mostly lost, false positives, misses, unique objects. Several pairs of
files are several sequences: each gets its column and an overall one sums them. Counted as
py-motmetrics counts (docs/stages/tracker.md#tracking-metrics): each frame keeps last frame's matches
that may still match and pairs the rest by the Hungarian method; a switch is a match to another
track than the object's last; mostly tracked from 80 % of its frames, mostly lost below 20 %; IDF1
from the one-to-one pairing of identities that share the most frames.

  --iou T         a box matches a box when their IoU is at least T (default 0.5; MOTP is then the
                  mean 1 - IoU of the matches, lower is better)
  --distance M    match on the floor instead: world positions (columns 8 and 9, wx and wy) at most M
                  apart (MOTP is then the mean distance of the matches, in the files' unit)
  --json          print {matching, sequences: [{truth, tracks, mota, motp, idf1, idp, idr, recall,
                  precision, idSwitches, fragmentations, mostlyTracked, partlyTracked, mostlyLost,
                  uniqueObjects, falsePositives, misses, matches, objects, hypotheses, frames, ...}],
                  overall: {...the same keys}}`;

const DEFAULT_MIN_IOU = 0.5;

/** A number option in [min, max], or the fallback when absent. */
function numberOption(values: Record<string, unknown>, name: string, range: { min: number; max: number; minExclusive?: boolean }, fallback?: number): number | undefined {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  const below = range.minExclusive ? n <= range.min : n < range.min;
  if (!Number.isFinite(n) || below || n > range.max)
    throw new WalkoutError('USAGE', `walkout eval mot: --${name} takes a number ${range.minExclusive ? 'above' : 'from'} ${range.min} ${range.minExclusive ? 'up ' : ''}to ${range.max}, not ${JSON.stringify(value)}`);
  return n;
}

/** How pairs match, and the same in the words of the report (the IoU as given, not 1 - (1 - IoU)). */
function matchingOf(values: Record<string, unknown>): { matching: MotMatching; described: { by: 'iou'; minIou: number } | { by: 'floor'; maxDistance: number } } {
  if (values.distance !== undefined) {
    if (values.iou !== undefined) throw new WalkoutError('USAGE', 'walkout eval mot: --iou and --distance are two ways to match; give one');
    const maxM = numberOption(values, 'distance', { min: 0, max: Number.MAX_VALUE, minExclusive: true })!;
    return { matching: { by: 'floor', maxM }, described: { by: 'floor', maxDistance: maxM } };
  }
  const minIou = numberOption(values, 'iou', { min: 0, max: 1, minExclusive: true }, DEFAULT_MIN_IOU)!;
  return { matching: { by: 'iou', maxDistance: 1 - minIou }, described: { by: 'iou', minIou } };
}

/** A sequence's name: the folder of its ground truth (MOTChallenge keeps gt.txt in <sequence>/gt/). */
function sequenceName(truthFile: string): string {
  const folder = path.dirname(path.resolve(truthFile));
  return path.basename(folder) === 'gt' ? path.basename(path.dirname(folder)) : path.basename(folder);
}

export const evalMotVerb: Verb = {
  name: 'eval mot',
  summary: 'Score tracks against ground truth in MOTChallenge text files: MOTA, MOTP, IDF1, switches, mostly tracked / lost.',
  usage: USAGE,
  options: {
    iou: { type: 'string' },
    distance: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length === 0 || positionals.length % 2 !== 0)
      throw new WalkoutError('USAGE', `walkout eval mot: give pairs of files, ground truth then tracks (got ${positionals.length} file${positionals.length === 1 ? '' : 's'})\n\n${USAGE}`);
    const { matching, described } = matchingOf(values);
    const floor = matching.by === 'floor';
    const sequences: Array<{ name: string; truth: string; tracks: string; counts: MotCounts }> = [];
    for (let i = 0; i < positionals.length; i += 2) {
      const [truthFile, tracksFile] = positionals.slice(i, i + 2);
      const truth = await readMotFile(truthFile, { floor });
      const tracks = await readMotFile(tracksFile, { floor });
      const accumulator = new MotAccumulator();
      for (const frame of pairFrames(truth, tracks, matching)) accumulator.update(frame);
      sequences.push({ name: sequenceName(truthFile), truth: truthFile, tracks: tracksFile, counts: accumulator.counts() });
    }
    const overall = motMetrics(sumMotCounts(sequences.map((s) => s.counts)));
    report(
      values.json === true,
      { matching: described, sequences: sequences.map((s) => ({ name: s.name, truth: s.truth, tracks: s.tracks, ...motMetrics(s.counts) })), overall },
      () => {
        const columns = sequences.map((s) => ({ name: s.name, metrics: motMetrics(s.counts) }));
        if (sequences.length > 1) columns.push({ name: 'overall', metrics: overall });
        const rule = described.by === 'floor' ? `world positions within ${described.maxDistance} of each other` : `IoU at least ${described.minIou}`;
        return `${sequences.length} sequence${sequences.length === 1 ? '' : 's'}, matched by ${rule}\n${formatMotTable(columns, floor ? 'mean distance' : 'mean 1 - IoU')}`;
      },
    );
  },
};
