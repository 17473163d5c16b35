import type { ReceiptFinalised, ReviewDecisionRefused, ReviewItemOpened, ReviewItemResolved, StoreIndex } from '../contracts/index.ts';
import type { ReceiptFigures, ReceiptScore } from './receipts.eval.ts';

/**
 * Receipts, the receipt scorecard and the review queue as plain text, for a terminal (`npm start`, `eval receipts`).
 * Names and the currency come from the store; a product the store does not list shows its id.
 */

/** Width of the product name column; longer names are cut with an ellipsis. */
const NAME_WIDTH = 36;
const MONEY_WIDTH = 9;
/** Width of the tag column of the scorecard. */
const TAG_WIDTH = 26;
const CENTS_PER_UNIT = 100;
/** Candidates shown per pending line; the rest are counted. */
const CANDIDATES_SHOWN = 3;

/** Integer cents as units and two decimals, without floating point: 1234 -> "12.34". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / CENTS_PER_UNIT)}.${String(abs % CENTS_PER_UNIT).padStart(2, '0')}`;
}

const fit = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

type StoreNames = Pick<StoreIndex, 'products'> & { store: Pick<StoreIndex['store'], 'currency'> };

/** One visit's receipt: a line per product, the lines pending review with their candidates, the total. */
export function formatReceipt(receipt: ReceiptFinalised, index: StoreNames): string {
  const name = (productId: string) => index.products.get(productId)?.name ?? productId;
  const who = receipt.accountId ? `account ${receipt.accountId}` : 'no account (anonymous visit, flagged for the operator)';
  const out = [`${receipt.receiptId}  visit ${receipt.visitId}  ${who}  left ${clockTime(receipt.exitMs)} UTC`];
  for (const line of receipt.lines)
    out.push(
      `  ${String(line.quantity).padStart(3)} x ${fit(name(line.productId), NAME_WIDTH)} ${formatCents(line.unitPriceCents).padStart(MONEY_WIDTH)} ${formatCents(line.totalCents).padStart(MONEY_WIDTH)}`,
    );
  if (receipt.lines.length === 0) out.push('  (nothing taken)');
  for (const pending of receipt.pending) {
    const shown = pending.candidates.slice(0, CANDIDATES_SHOWN).map((c) => `${c.quantity} x ${name(c.productId)}`);
    const more = pending.candidates.length - shown.length;
    const candidates = shown.length === 0 ? 'no candidate named' : shown.join(', or ') + (more > 0 ? ` (${more} more)` : '');
    out.push(`  pending review ${pending.reviewId}${pending.shelfEventId ? ` (shelf event ${pending.shelfEventId})` : ''}: ${candidates}`);
  }
  // The label ends where the unit price column ends, so the total sits under the line totals.
  const totalLabel = `TOTAL ${index.store.currency}`;
  const unitPriceEnd = '  nnn x '.length + NAME_WIDTH + 1 + MONEY_WIDTH;
  out.push(`${totalLabel.padStart(unitPriceEnd)} ${formatCents(receipt.totalCents).padStart(MONEY_WIDTH)}`);
  return out.join('\n');
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
const ms = (value: number | null) => (value === null ? '-' : `${(value / 1000).toFixed(2)} s`);

/** ": 3 attribution, 1 tailgating", most first; nothing when there are none. */
function byKind(counts: Record<string, number>): string {
  const kinds = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return kinds.length === 0 ? '' : `: ${kinds.map(([kind, n]) => `${n} ${kind}`).join(', ')}`;
}

function figureLines(figures: ReceiptFigures): string[] {
  return [
    `visits scored          ${figures.visits}  (${figures.missingReceipts} without a receipt, ${figures.visitsWithPending} with lines pending review)`,
    `exact receipts         ${pct(figures.exactMatch)}  (before review ${pct(figures.exactMatchBeforeReview)})`,
    `receipt F1             ${figures.receiptF1.toFixed(3)}  (precision ${figures.receiptPrecision.toFixed(3)}, recall ${figures.receiptRecall.toFixed(3)}; before review ${figures.receiptF1BeforeReview.toFixed(3)})`,
    `attribution accuracy   ${pct(figures.attributionAccuracy)} of ${figures.actions} picks and puts`,
    `reviews                ${figures.reviewsPer1000.toFixed(1)} per 1000 visits (${figures.reviews}${byKind(figures.reviewsByKind)})`,
    `operator flags         ${figures.operatorFlagsPer1000.toFixed(1)} per 1000 visits (${figures.operatorFlags} tailgating)`,
    ...(figures.withdrawn > 0 ? [`withdrawn items        ${figures.withdrawn} (answered by a decision on another item; nobody decided them)`] : []),
    ...(figures.answered > 0 ? [`answered items         ${figures.answered} (decided by fusion when their gate binding was decided; nobody decided them)`] : []),
    `calibration error      ${figures.calibrationError.toFixed(4)} over ${figures.attributions} attributions`,
    `pick-to-cart latency   p50 ${ms(figures.latency.p50Ms)}, p99 ${ms(figures.latency.p99Ms)} (${figures.latency.count} picks and puts)`,
  ];
}

/** The reliability table: per confidence bin, how many, how sure fusion said it was, how often it was right. */
export function formatReliability(figures: Pick<ReceiptFigures, 'calibration'>): string[] {
  const out = ['  confidence      count   stated    right'];
  for (const bin of figures.calibration) {
    const range = `${bin.lo.toFixed(1)}-${bin.hi.toFixed(1)}`;
    const cells = bin.count === 0 ? ['-', '-'] : [bin.meanConfidence.toFixed(3), bin.accuracy.toFixed(3)];
    out.push(`  ${range.padEnd(12)} ${String(bin.count).padStart(8)} ${cells[0].padStart(8)} ${cells[1].padStart(8)}`);
  }
  return out;
}

/** The scorecard: overall figures, the reliability table, one short block per tag, the visits that went wrong. */
export function formatReceiptScorecard(score: ReceiptScore, options: { details?: boolean } = {}): string {
  const out = ['receipts against the ground truth', ...figureLines(score).map((line) => `  ${line}`), '', 'reliability of attribution confidence', ...formatReliability(score)];
  const tags = Object.keys(score.byTag);
  if (tags.length > 0) {
    out.push('', 'by tag                        visits    exact  before review       F1  attribution  reviews/1000      ECE');
    for (const tag of tags) {
      const figures = score.byTag[tag];
      out.push(
        `  ${fit(tag, TAG_WIDTH)} ${String(figures.visits).padStart(8)} ${pct(figures.exactMatch).padStart(8)} ${pct(figures.exactMatchBeforeReview).padStart(14)} ${figures.receiptF1.toFixed(3).padStart(8)} ${pct(figures.attributionAccuracy).padStart(12)} ${figures.reviewsPer1000.toFixed(1).padStart(13)} ${figures.calibrationError.toFixed(4).padStart(8)}`,
      );
    }
  }
  if (score.extraReceipts.length > 0) out.push('', `receipts of visits that match no true visit: ${score.extraReceipts.join(', ')}`);
  if (options.details) {
    const wrong = score.perVisit.filter((visit) => !visit.exact);
    if (wrong.length > 0) out.push('', 'receipts not exactly right');
    for (const visit of wrong) {
      const lines = (label: string, items: Array<{ productId: string; quantity: number }>) => (items.length > 0 ? ` ${label} ${items.map((i) => `${i.quantity} x ${i.productId}`).join(', ')}` : '');
      out.push(`  ${visit.visitId}${visit.tags.length > 0 ? ` [${visit.tags.join(', ')}]` : ''}:${visit.receiptVisitId === null ? ' no receipt;' : ''}${lines('not charged:', visit.missing)}${lines('charged, not taken:', visit.extra)}`);
    }
    if (score.reviewItems.length > 0) out.push('', 'review items, and what truly happened at their shelf event');
    for (const item of score.reviewItems) {
      const truth = item.truth.map((a) => `${a.visitId ?? 'staff'} ${a.kind} ${a.quantity} x ${a.productId}${a.laneId ? ` on ${a.laneId}` : ''}`).join('; ');
      out.push(`  ${item.reviewId} [${item.kind}] ${item.visitIds.join(', ') || 'no visit named'}: ${item.reason}${item.shelfEventId === null ? '' : ` -- truth: ${truth || 'no true action'}`}`);
    }
  }
  return out.join('\n');
}

/**
 * Where a review item stands: open, decided by a person, or withdrawn by the stage that opened it
 * (a decision on another item answered it; nobody decided it); and each decision on it that the
 * stage which opened it did not apply, with why. The first resolution of an item stands, as the cart
 * and checkout take it; the gate takes every `bound` decision, so a refused one may be followed by
 * another.
 */
export function reviewState(reviewId: string, resolutions: readonly ReviewItemResolved[], refusals: readonly ReviewDecisionRefused[] = []): string {
  const first = resolutions.find((r) => r.reviewId === reviewId);
  const state = !first
    ? 'open'
    : first.decision.outcome === 'withdrawn'
      ? `withdrawn by ${first.reviewer}, answered by ${first.decision.settledBy}`
      : `decided ${first.decision.outcome} by ${first.reviewer}`;
  const refused = refusals
    .filter((r) => r.reviewId === reviewId)
    .map((r) => `${r.decisionEventId} not applied by ${r.refusedBy} (${r.why}): ${r.reason}`);
  return [state, ...refused].join('; ');
}

/** The review queue as the console shows it: one line per item, with what became of it when it is no longer open. */
export function formatReviewQueue(items: readonly ReviewItemOpened[], resolutions: readonly ReviewItemResolved[], refusals: readonly ReviewDecisionRefused[] = []): string[] {
  return items.map((item) => {
    const state = reviewState(item.reviewId, resolutions, refusals);
    const named = item.visitIds.join(', ') || item.contest?.visitId || 'no visit named';
    return `  ${item.reviewId} [${item.kind}] ${named}: ${item.reason}${state === 'open' ? '' : `  [${state}]`}`;
  });
}
