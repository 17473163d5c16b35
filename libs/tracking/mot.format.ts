import type { MotMetrics } from './mot.eval.ts';

/** MOT metrics as a table: one row per metric, one column per sequence (and the overall one). */
export function formatMotTable(columns: ReadonlyArray<{ name: string; metrics: MotMetrics }>, motpMeaning: string): string {
  const ratio = (v: number | null) => (v === null ? '-' : v.toFixed(6));
  const rows: Array<[string, (m: MotMetrics) => string]> = [
    ['MOTA', (m) => ratio(m.mota)],
    [`MOTP (${motpMeaning})`, (m) => ratio(m.motp)],
    ['IDF1', (m) => ratio(m.idf1)],
    ['IDP', (m) => ratio(m.idp)],
    ['IDR', (m) => ratio(m.idr)],
    ['recall', (m) => ratio(m.recall)],
    ['precision', (m) => ratio(m.precision)],
    ['ID switches', (m) => String(m.idSwitches)],
    ['fragmentations', (m) => String(m.fragmentations)],
    ['mostly tracked / partly / mostly lost', (m) => `${m.mostlyTracked} / ${m.partlyTracked} / ${m.mostlyLost}`],
    ['unique objects', (m) => String(m.uniqueObjects)],
    ['false positives', (m) => String(m.falsePositives)],
    ['misses', (m) => String(m.misses)],
    ['matches / objects', (m) => `${m.matches} / ${m.objects}`],
    ['frames', (m) => String(m.frames)],
  ];
  const table = [['metric', ...columns.map((c) => c.name)], ...rows.map(([label, cell]) => [label, ...columns.map((c) => cell(c.metrics))])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}
