import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadStore, indexStore } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { report, type Verb } from '../../libs/cli/verb.ts';
import { generateStore, STORE_SPECS, storeToJson } from '../../libs/sim/store.generator.ts';

export const storesCheckVerb: Verb = {
  name: 'stores check',
  summary: 'Validate store descriptions and print a summary of each.',
  usage: 'walkout stores check [file.json ...] [--json]\n\nWith no files, checks every store under fixtures/stores/.',
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    const files = positionals.length
      ? positionals
      : (await readdir('fixtures/stores')).filter((f) => f.endsWith('.json')).map((f) => path.join('fixtures/stores', f));
    const summaries: Array<Record<string, string | number>> = [];
    for (const file of files) {
      const index = indexStore(await loadStore(file));
      summaries.push({
        file,
        storeId: index.store.id,
        name: index.store.name,
        cameras: index.store.cameras.length,
        gondolas: index.gondolas.size,
        shelves: index.shelves.size,
        lanes: index.lanes.size,
        plates: index.plates.size,
        loadCells: index.store.loadCells.length,
        products: index.products.size,
        gates: index.store.gates.length,
      });
    }
    report(values.json === true, summaries, () =>
      summaries
        .map(
          (s) =>
            `${s.storeId} (${s.name}, ${s.file}): ${s.cameras} cameras, ${s.gondolas} gondolas, ${s.shelves} shelves, ` +
            `${s.lanes} lanes on ${s.plates} plates, ${s.products} products, ${s.gates} gates`,
        )
        .join('\n'),
    );
  },
};

export const storesGenerateVerb: Verb = {
  name: 'stores generate',
  summary: 'Write the built-in store fixtures (kiosk, kiosk-shelf-cams, convenience) from their generator specs.',
  usage: `walkout stores generate [--out fixtures/stores] [--force] [--json]

Writes <name>.json into --out for each built-in store. A store file already there is replaced; any
other file of that name only with --force.`,
  options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }) {
    const out = typeof values.out === 'string' ? values.out : 'fixtures/stores';
    const stores = await Promise.all(
      Object.entries(STORE_SPECS).map(async ([name, spec]) => ({
        spec,
        output: await prepareOutput({ verb: this.name, target: path.join(out, `${name}.json`), kind: outputKinds.store, force: values.force === true }),
      })),
    );
    const wrote: string[] = [];
    for (const { spec, output } of stores) {
      await output.write((into) => writeFile(into, storeToJson(generateStore(spec))));
      wrote.push(output.target);
    }
    report(values.json === true, { wrote }, () => wrote.map((file) => `wrote ${file}`).join('\n'));
  },
};
