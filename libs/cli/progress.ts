/**
 * Progress for long work: a bar with a count and a rate on a terminal, a line every few seconds
 * otherwise (CI logs), nothing when asked to be quiet (JSON output).
 */
export interface Progress {
  tick(done?: number): void;
  done(): void;
}

const REDRAW_MS = 100;
const LOG_EVERY_MS = 5_000;

export function progress(
  label: string,
  total: number,
  options: { unit?: string; quiet?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'items';
  if (options.quiet) return { tick() {}, done() {} };
  const started = performance.now();
  let count = 0;
  let lastDraw = 0;
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    const share = total > 0 ? Math.min(1, count / total) : 0;
    const width = 24;
    const filled = Math.round(share * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${unit} ${rate.toFixed(1)} ${unit}/s ${seconds.toFixed(1)} s`;
  };
  const draw = (final: boolean) => {
    const now = performance.now();
    if (stream.isTTY) {
      if (final || now - lastDraw >= REDRAW_MS) {
        stream.write(`\r${line()}${final ? '\n' : ''}`);
        lastDraw = now;
      }
    } else if (final || now - lastDraw >= LOG_EVERY_MS) {
      stream.write(`${line()}\n`);
      lastDraw = now;
    }
  };
  return {
    tick(done = 1) {
      count += done;
      draw(false);
    },
    done() {
      draw(true);
    },
  };
}
