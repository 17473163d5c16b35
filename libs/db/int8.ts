import { WalkoutError } from '../contracts/errors.ts';

/** PostgreSQL's bigint (int8, type oid 20) as a JavaScript number, refused beyond 2^53 rather than rounded. */
export const INT8_OID = 20;

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new WalkoutError('DATABASE_FAILED', `a bigint ${text} is beyond what a JavaScript number holds exactly; money and times here stay far below 2^53`);
  return value;
}
