import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/** For the CLI's tests: runs `walkout` as a user would, in its own process, and keeps what it said and how it ended. */

export const repositoryRoot = new URL('../../', import.meta.url).pathname;
const walkout = path.join(repositoryRoot, 'bin/walkout.js');

export async function runWalkout(args: string[], cwd = repositoryRoot, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [walkout, ...args], { cwd, env, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
