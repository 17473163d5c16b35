import { WalkoutError } from '../../libs/contracts/index.ts';
import { parseVerbArgs } from '../../libs/cli/verb.ts';
import { verbs } from './verbs.ts';

function overview(): string {
  const width = Math.max(...Object.keys(verbs).map((v) => v.length));
  const lines = Object.entries(verbs).map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`);
  return `walkout: a just-walk-out store pipeline\n\nusage: walkout <verb> [options]   (walkout <verb> --help for details)\n\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const name = verbs[two] ? two : argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return name ? 0 : 2;
  }
  const entry = verbs[name];
  if (!entry) {
    process.stderr.write(`walkout: unknown verb "${argv.slice(0, 2).join(' ')}"\n\n${overview()}`);
    return 2;
  }
  const verb = await entry.load();
  const rest = argv.slice(name.split(' ').length);
  try {
    const args = parseVerbArgs(verb, rest);
    if (args.values.help) {
      process.stdout.write(`${verb.summary}\n\n${verb.usage}\n`);
      return 0;
    }
    await verb.run(args as never);
    return 0;
  } catch (error) {
    if (error instanceof WalkoutError) {
      process.stderr.write(`walkout ${name}: [${error.code}] ${error.message}\n`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    throw error;
  }
}
