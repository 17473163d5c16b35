import { readFile } from 'node:fs/promises';
import { describeIssues, Scenario, WalkoutError } from '../contracts/index.ts';

export function parseScenario(value: unknown, source: string): Scenario {
  const parsed = Scenario.safeParse(value);
  if (!parsed.success)
    throw new WalkoutError('SCENARIO_INVALID', `${source} is not a valid scenario:\n${describeIssues(parsed.error, source)}`, {
      details: parsed.error.issues,
    });
  return parsed.data;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('SCENARIO_INVALID', `cannot read scenario ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseScenario(JSON.parse(text), file);
  } catch (cause) {
    if (cause instanceof WalkoutError) throw cause;
    throw new WalkoutError('SCENARIO_INVALID', `${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
}
