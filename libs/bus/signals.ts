import type { BusLogger } from './bus.types.ts';
import { silentLogger } from './bus.types.ts';

export interface CloseOnSignalsOptions {
  readonly signals?: readonly NodeJS.Signals[];
  readonly logger?: BusLogger;
  /** Longest a graceful close may take before the process exits anyway (an orchestrator kills at about 30 s). */
  readonly graceMs?: number;
  /** Replaced in tests; the default ends the process. */
  readonly exit?: (code: number) => void;
}

/** A little under Kubernetes' default 30 s grace period, so we exit before we are killed. */
const DEFAULT_GRACE_MS = 25_000;

/**
 * On SIGTERM (or SIGINT) closes the bus, or a whole service whose stop() closes it, so in-flight
 * handlers finish and their offsets are committed before the process ends; then exits 0. A close
 * that fails or outlives the grace period exits 1: the uncommitted messages go to the next owner.
 * Returns a function that removes the handlers.
 */
export function closeOnSignals(target: { close(): Promise<void> }, options: CloseOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const logger = options.logger ?? silentLogger;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn('already closing; signal ignored', { signal });
      return;
    }
    closing = true;
    logger.info('closing on signal', { signal });
    const timer = setTimeout(() => {
      logger.error('close took longer than the grace period; exiting', { graceMs: options.graceMs ?? DEFAULT_GRACE_MS });
      exit(1);
    }, options.graceMs ?? DEFAULT_GRACE_MS);
    timer.unref();
    target.close().then(
      () => {
        clearTimeout(timer);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error('close failed', { error: (error as Error)?.message ?? String(error) });
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
