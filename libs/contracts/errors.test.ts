import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCatalogue, WalkoutError } from './errors.ts';

test('the README error table lists exactly the catalogue, with the same status and retry advice', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'README has an "## Errors" section');
  const documented = new Map(
    [...section.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (yes|no) \| (.+) \|$/gm)].map((m) => [m[1], { status: Number(m[2]), retriable: m[3] === 'yes' }]),
  );
  assert.deepEqual([...documented.keys()].sort(), Object.keys(errorCatalogue).sort());
  for (const [code, entry] of Object.entries(errorCatalogue))
    assert.deepEqual(documented.get(code), { status: entry.status, retriable: entry.retriable }, code);
});

test('a WalkoutError carries its catalogue entry', () => {
  const error = new WalkoutError('BUS_UNAVAILABLE', 'broker down');
  assert.equal(error.status, 503);
  assert.equal(error.retriable, true);
  assert.equal(error.code, 'BUS_UNAVAILABLE');
});
