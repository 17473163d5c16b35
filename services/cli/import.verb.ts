import { WalkoutError } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { report, requireString, type Verb } from '../../libs/cli/verb.ts';
import { importPlates } from '../../libs/shelf/plates.import.ts';

const USAGE = `walkout import plates <folder> --products <csv> [--truth <csv>] --out <recording> [--store-id ID] [--force] [--json]

Imports public cashierless load-cell data into a walkout recording:
  <folder>/gondola_{g}_shelf_{s}_plate_{p}.csv   rows unix_seconds,grams (one file per plate)
  --products <csv>   name,gondola,shelf,plate,weight,price (one row per product and plate)
  --truth <csv>      unix_seconds,gondola,shelf,plates,product,quantity_delta (plates split by ";",
                     negative quantity for a pick), optional
  --out <recording>  the recording folder to write; an existing recording there is replaced once the
                     import succeeded, anything else only with --force
Bad rows are reported with file and line and skipped; every good row is written. Then score it with
\`walkout eval shelf <recording>\`.`;

export const importPlatesVerb: Verb = {
  name: 'import plates',
  summary: 'Import per-plate load-cell CSVs (public cashierless layout) into a recording.',
  usage: USAGE,
  options: { products: { type: 'string' }, truth: { type: 'string' }, out: { type: 'string' }, 'store-id': { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout import plates: give one folder\n\n${USAGE}`);
    const out = requireString(values, 'out', importPlatesVerb);
    const quiet = values.json === true;
    const productsCsv = requireString(values, 'products', importPlatesVerb);
    const truthCsv = typeof values.truth === 'string' ? values.truth : undefined;
    const output = await prepareOutput({
      verb: importPlatesVerb.name,
      target: out,
      kind: outputKinds.recording,
      inputs: { '<folder>': positionals[0], '--products': productsCsv, '--truth': truthCsv },
      force: values.force === true,
    });
    const imported = await output.write((into) =>
      importPlates({
        folder: positionals[0],
        productsCsv,
        truthCsv,
        out: into,
        storeId: typeof values['store-id'] === 'string' ? values['store-id'] : undefined,
        onFile: quiet ? undefined : (file) => process.stderr.write(`reading ${file}\n`),
      }),
    );
    const result = { ...imported, out };
    report(quiet, result, () =>
      [
        `wrote ${out}: ${result.gondolas} gondolas, ${result.shelves} shelves, ${result.plates} plates, ${result.products} products`,
        `  ${result.ticks} ticks from ${result.rowsAccepted} rows (${result.rowsRejected} rejected), ${result.actions} true actions, ${((result.endMs - result.startMs) / 1000).toFixed(1)} s`,
        ...result.issues.slice(0, 20).map((i) => `  ${i.file}:${i.line}: ${i.message}`),
        ...(result.issues.length > 20 ? [`  ... and ${result.issues.length - 20} more`] : []),
      ].join('\n'),
    );
    if (result.issues.length > 0)
      throw new WalkoutError(
        'RECORDING_INVALID',
        `${result.issues.length} problem(s) in the input (listed above; the recording holds every good row): first at ${result.issues[0].file}:${result.issues[0].line}: ${result.issues[0].message}`,
        { details: result.issues },
      );
  },
};
