import { collect, formatSummary, openRecording, summariseRecording } from '../../libs/recording/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { report, requireString, type Verb } from '../../libs/cli/verb.ts';
import { storeMapSvg, WalkPaths, WeightTrace, weightTraceSvg, writePicture } from '../../libs/viz/index.ts';
import { WalkoutError } from '../../libs/contracts/index.ts';

export const recordingSummaryVerb: Verb = {
  name: 'recording summary',
  summary: 'Read every stream of a recording and print what it holds.',
  usage: 'walkout recording summary <dir> [--json]',
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout recording summary takes one folder\n\n${this.usage}`);
    const summary = await summariseRecording(positionals[0]);
    report(values.json === true, summary, () => formatSummary(summary));
  },
};

export const recordingMapVerb: Verb = {
  name: 'recording map',
  summary: 'Draw a recording on the store map: walks, picks and puts, cameras (SVG or PNG).',
  usage: `walkout recording map <dir> --out <map.svg|map.png> [--force] [--json]

A picture already at --out is replaced; anything else only with --force. --out may not lie inside the recording.`,
  options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout recording map takes one folder\n\n${this.usage}`);
    const out = requireString(values, 'out', this);
    const output = await prepareOutput({ verb: this.name, target: out, kind: outputKinds.picture, inputs: { '<dir>': positionals[0] }, force: values.force === true });
    const recording = await openRecording(positionals[0]);
    const walks = new WalkPaths();
    for await (const tick of recording.truthSkeletons()) walks.add(tick);
    const svg = storeMapSvg(recording.index, walks, await collect(recording.truthActions()));
    await output.write((into) => writePicture(into, svg));
    report(values.json === true, { wrote: [out] }, () => `wrote ${out}`);
  },
};

export const recordingWeightsVerb: Verb = {
  name: 'recording weights',
  summary: 'Plot one shelf\'s load-cell traces with the true picks and puts (SVG or PNG).',
  usage: `walkout recording weights <dir> --shelf <shelf id> --out <trace.svg|trace.png> [--force] [--json]

A picture already at --out is replaced; anything else only with --force. --out may not lie inside the recording.`,
  options: { out: { type: 'string' }, shelf: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout recording weights takes one folder\n\n${this.usage}`);
    const out = requireString(values, 'out', this);
    const shelfId = requireString(values, 'shelf', this);
    const output = await prepareOutput({ verb: this.name, target: out, kind: outputKinds.picture, inputs: { '<dir>': positionals[0] }, force: values.force === true });
    const recording = await openRecording(positionals[0]);
    const stream = recording.manifest.streams.loadCells.find((s) => s.shelfId === shelfId);
    if (!stream) throw new WalkoutError('USAGE', `${positionals[0]} has no load cells for shelf ${shelfId}`);
    const trace = new WeightTrace();
    for await (const row of recording.loadCellRows(stream)) trace.add(row.ts, row.grams);
    const actions = (await collect(recording.truthActions())).filter((a) => a.shelfId === shelfId);
    const svg = weightTraceSvg(shelfId, stream.loadCellIds, trace, actions);
    await output.write((into) => writePicture(into, svg));
    report(values.json === true, { wrote: [out] }, () => `wrote ${out}`);
  },
};
