import { WalkoutError } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { report, requireString, type Verb } from '../../libs/cli/verb.ts';
import { MAX_STEP_BACK_MS } from '../../libs/shelf/plate-csv.reader.ts';
import { importPlates } from '../../libs/shelf/plates.import.ts';

const USAGE = `walkout import plates <folder> --products <csv> [--truth <csv>] --out <recording> [--store-id ID] [--force] [--json]

Imports public cashierless load-cell data into a walkout recording:
  <folder>/gondola_{g}_shelf_{s}_plate_{p}.csv   rows unix_seconds,grams (one file per plate)
  --products <csv>   name,gondola,shelf,plate,weight,price (one row per product and plate)
  --truth <csv>      unix_seconds,gondola,shelf,plates,product,quantity_delta (plates split by ";",
                     negative quantity for a pick), optional
  --out <recording>  the recording folder to write; an existing recording there is replaced once the
                     import succeeded, anything else only with --force
Bad rows are errors, reported with file and line and left out; every good row is written, and the
command fails (exit 1) when there was an error. Readings that step back up to ${MAX_STEP_BACK_MS} ms in time (where
the sensor's batches meet) are put in order and reported as a warning, as is a product without a
price; warnings alone exit 0. Then score it with \`walkout eval shelf <recording>\`.`;

const SHOWN_ISSUES = 20;

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
    // The report is of the recording at --out, where the output helper moved it once it was written.
    const result = { out, ...imported };
    report(quiet, result, () =>
      [
        `wrote ${out}: ${result.gondolas} gondolas, ${result.shelves} shelves, ${result.plates} plates, ${result.products} products`,
        `  ${result.ticks} ticks from ${result.rowsAccepted} rows (${result.rowsRejected} left out, ${result.rowsReordered} put back in time order), ${result.actions} true actions, ${((result.endMs - result.startMs) / 1000).toFixed(1)} s`,
        `  ${result.errors} error(s), ${result.warnings} warning(s)`,
        ...result.issues.slice(0, SHOWN_ISSUES).map((i) => `  ${i.file}:${i.line}: ${i.severity}: ${i.message}`),
        ...(result.errors + result.warnings > SHOWN_ISSUES ? [`  ... and ${result.errors + result.warnings - SHOWN_ISSUES} more (--json lists the first ${result.issues.length})`] : []),
      ].join('\n'),
    );
    // Warnings (readings put back in order, a missing price) leave a usable recording: only errors fail.
    const firstError = result.firstError;
    if (result.errors > 0)
      throw new WalkoutError(
        'RECORDING_INVALID',
        `${result.errors} error(s) in the input (listed above; the recording holds every good row)${firstError ? `: first at ${firstError.file}:${firstError.line}: ${firstError.message}` : ''}`,
        { details: result.issues },
      );
  },
};
