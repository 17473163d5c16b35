import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reference data that may not be shipped with walkout (no licence, or test-use-only terms) stays in
 * the shared data folder beside the repository, `../shared/data` from the project root, and never in
 * fixtures/. A test of such data runs where that folder holds it. Without it the test is skipped
 * with the reason shown, except under CI=true: there missing data is a broken pipeline and the test
 * fails, as the Kafka tests do without a broker (libs/bus/bus.harness.ts kafkaTarget).
 *
 *   const truth = sharedData('mot/TUD-Campus/gt.txt', 'MOTChallenge ground truth, CC BY-NC-SA 3.0: test use only');
 *   test('...', { skip: truth.skip }, () => {
 *     const file = truth.use();
 *     ...
 *   });
 *
 * Data that may be shipped belongs in fixtures/ with its licence and attribution beside it.
 */
export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

export interface SharedData {
  /** Absolute path of the file or folder asked for (it may not exist). */
  readonly path: string;
  /** For node:test's `skip` option: why the test cannot run here, or false when it must run. */
  readonly skip: string | false;
  /** The path, to call first thing in the test; fails the test when the data is missing (under CI=true). */
  use(): string;
}

export interface SharedDataOptions {
  /** The folder that stands for ../shared/data (tests of this helper). */
  readonly root?: string;
  readonly env?: Record<string, string | undefined>;
}

/**
 * `relativePath` inside the shared data folder; `why` says why it is not in fixtures/ (its licence),
 * and is part of the reason a test is skipped or fails for.
 */
export function sharedData(relativePath: string, why: string, options: SharedDataOptions = {}): SharedData {
  const root = options.root ?? SHARED_DATA_DIR;
  const env = options.env ?? process.env;
  const file = path.join(root, relativePath);
  if (existsSync(file)) return { path: file, skip: false, use: () => file };
  const absent = `${file} is not there: ${why}, kept in ../shared/data beside the repository`;
  if (env.CI === 'true') {
    return {
      path: file,
      skip: false,
      use: () => {
        throw new Error(`CI=true but ${absent}: the CI checkout must put the shared data folder beside the repository`);
      },
    };
  }
  const reason = `${absent}; CI=true makes this a failure`;
  return {
    path: file,
    skip: reason,
    use: () => {
      throw new Error(reason);
    },
  };
}
