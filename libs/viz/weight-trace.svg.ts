import type { ActionTruth } from '../contracts/index.ts';
import { esc, PALETTE, svgDocument } from './svg.ts';
import { ThinnedSeries } from './thinned.series.ts';

/**
 * Load-cell traces of one shelf over time, each cell relative to its own first reading (absolute
 * values drift and mean little), with the true picks and puts marked.
 */
const WIDTH = 1100;
const HEIGHT = 420;
const PAD = { left: 70, right: 170, top: 30, bottom: 40 };
/** Points drawn of a trace at most: about two a pixel of the plot's width. */
const TRACE_POINTS = 2_000;

/**
 * One shelf's samples as they stream by: the range of every change (from every sample) and an even
 * spread of TRACE_POINTS samples to draw, so an hour's trace takes the memory of a minute's.
 */
export class WeightTrace {
  private readonly drawn = new ThinnedSeries<{ ts: number; grams: Float64Array }>(TRACE_POINTS);
  base: Float64Array | undefined;
  lo = Infinity;
  hi = -Infinity;

  add(ts: number, grams: ArrayLike<number>): void {
    const base = (this.base ??= Float64Array.from(grams));
    for (let i = 0; i < grams.length; i++) {
      this.lo = Math.min(this.lo, grams[i] - base[i]);
      this.hi = Math.max(this.hi, grams[i] - base[i]);
    }
    this.drawn.push({ ts, grams: Float64Array.from(grams) });
  }

  rows(): Array<{ ts: number; grams: Float64Array }> {
    return this.drawn.items();
  }
}

export function weightTraceSvg(shelfId: string, cellIds: string[], trace: WeightTrace, actions: ActionTruth[]): string {
  const rows = trace.rows();
  const base = trace.base;
  if (rows.length === 0 || !base) return svgDocument(WIDTH, HEIGHT, [`<text x="20" y="40">no samples for ${esc(shelfId)}</text>`]);
  const t0 = rows[0].ts;
  const t1 = rows[rows.length - 1].ts;
  let { lo, hi } = trace;
  if (hi - lo < 20) [lo, hi] = [lo - 10, hi + 10];
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (WIDTH - PAD.left - PAD.right);
  const y = (g: number) => PAD.top + (1 - (g - lo) / (hi - lo)) * (HEIGHT - PAD.top - PAD.bottom);
  const body: string[] = [
    `<text x="${PAD.left}" y="18" font-size="14" font-weight="bold">shelf ${esc(shelfId)}: change in grams since the first sample</text>`,
    `<line x1="${PAD.left}" y1="${y(0)}" x2="${WIDTH - PAD.right}" y2="${y(0)}" stroke="#ccc"/>`,
  ];
  for (const g of [lo, 0, hi]) body.push(`<text x="${PAD.left - 6}" y="${y(g) + 4}" font-size="11" text-anchor="end">${g.toFixed(0)} g</text>`);
  for (let s = 0; s <= (t1 - t0) / 1000; s += Math.max(1, Math.round((t1 - t0) / 10000)))
    body.push(`<text x="${x(t0 + s * 1000)}" y="${HEIGHT - PAD.bottom + 16}" font-size="11" text-anchor="middle">${s} s</text>`);
  for (const a of actions) {
    const colour = a.kind === 'pick' ? '#d62728' : '#2ca02c';
    body.push(`<rect x="${x(a.startMs)}" y="${PAD.top}" width="${Math.max(1, x(a.endMs) - x(a.startMs))}" height="${HEIGHT - PAD.top - PAD.bottom}" fill="${colour}" opacity="0.12"/>`);
    body.push(`<text x="${x(a.startMs)}" y="${PAD.top + 12}" font-size="10" fill="${colour}">${esc(`${a.kind} ${a.quantity}x${a.productId} ${a.laneId ?? ''}`)}</text>`);
  }
  cellIds.forEach((id, i) => {
    const points: string[] = [];
    for (let r = 0; r < rows.length; r++) points.push(`${x(rows[r].ts).toFixed(1)},${y(rows[r].grams[i] - base[i]).toFixed(1)}`);
    const colour = PALETTE[i % PALETTE.length];
    body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.2"/>`);
    body.push(`<text x="${WIDTH - PAD.right + 10}" y="${PAD.top + 14 + i * 16}" font-size="11" fill="${colour}">${esc(id)}</text>`);
  });
  return svgDocument(WIDTH, HEIGHT, body);
}
