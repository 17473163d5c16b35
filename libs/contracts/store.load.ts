import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { WalkoutError } from './errors.ts';
import { StoreSchema, type Store } from './store.schema.ts';

/** Formats every zod issue as `where: what`, so one run lists all bad values at once. */
export function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => `${source}${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`)
    .join('\n');
}

export function parseStore(value: unknown, source = 'store'): Store {
  const result = StoreSchema.safeParse(value);
  if (!result.success)
    throw new WalkoutError('STORE_INVALID', `${source} is not a valid store:\n${describeIssues(result.error, source)}`, {
      details: result.error.issues,
    });
  return Object.freeze(result.data);
}

export async function loadStore(file: string): Promise<Store> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('STORE_INVALID', `cannot read store file ${file}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WalkoutError('STORE_INVALID', `${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
  return parseStore(json, file);
}
