import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { WalkoutError } from '../contracts/index.ts';

/**
 * Which ffmpeg to run: WALKOUT_FFMPEG if set, else an `ffmpeg` on PATH (the system's build is
 * usually newer and may use hardware), else the static binary that @ffmpeg-installer/ffmpeg ships
 * for this platform. Found once per process.
 */
export interface FfmpegTool {
  path: string;
  source: 'env' | 'path' | 'package';
}

let found: FfmpegTool | undefined;

export function locateFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegTool {
  if (found && env === process.env) return found;
  const tool = search(env);
  if (env === process.env) found = tool;
  return tool;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function search(env: NodeJS.ProcessEnv): FfmpegTool {
  const override = env.WALKOUT_FFMPEG;
  if (override) {
    if (!executable(override)) throw new WalkoutError('TOOL_MISSING', `WALKOUT_FFMPEG is ${override}, which is not an executable file`);
    return { path: override, source: 'env' };
  }
  const names = process.platform === 'win32' ? ['ffmpeg.exe'] : ['ffmpeg'];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (executable(candidate)) return { path: candidate, source: 'path' };
    }
  try {
    const require = createRequire(import.meta.url);
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    if (executable(installer.path)) return { path: installer.path, source: 'package' };
  } catch {
    // Not installed, or no binary for this platform: fall through to the error below.
  }
  throw new WalkoutError(
    'TOOL_MISSING',
    'ffmpeg not found: install it on PATH, set WALKOUT_FFMPEG to its path, or run npm ci (the @ffmpeg-installer/ffmpeg package ships one)',
  );
}
