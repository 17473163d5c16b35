import { formatSummary, summariseRecording } from '../../libs/recording/index.ts';
import { report, type Verb } from '../../libs/cli/verb.ts';
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
