import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CameraPosesDetected, RECORDING_FORMAT, WalkoutError } from '../contracts/index.ts';

/**
 * Where a verb writes, so that no command destroys what the user has.
 *
 * Before any work starts the target is checked, and nothing is touched: every input must exist; the
 * target may not be, hold or sit inside anything the verb reads, nor hold the folder the command
 * runs in; and something already at the target is replaced only when it is what the verb makes (a
 * recording for a recording, a picture for a picture), or when the user says --force.
 *
 * The work then goes into a new folder beside the target (same filesystem, so renames are atomic),
 * and only when it has succeeded is the result put in place: the old target renamed aside, the new
 * one renamed in, the old one removed. A run that fails, or is stopped by SIGINT, SIGTERM or SIGHUP,
 * leaves the target as it was and nothing beside it.
 */

/** What a verb writes, and how to tell that something already at the target is one of those. */
export interface OutputKind {
  /** In the user's words: "recording", "picture". */
  readonly name: string;
  /** Whether it is a folder (else a file). */
  readonly folder: boolean;
  /** How the user can tell one, for the message that refuses to replace something else. */
  readonly looksLike: string;
  /** Whether what is at `target` (which exists) is one of these, so replacing it loses nothing the verb cannot make again. */
  recognise(target: string): Promise<boolean>;
}

/** The first bytes of a file, for kinds told by their content. */
async function firstBytes(file: string, count: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function isFolder(target: string): Promise<boolean> {
  try {
    return (await stat(target)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // a link to nothing
    throw error;
  }
}

async function isEmptyFolder(target: string): Promise<boolean> {
  return (await isFolder(target)) && (await readdir(target)).length === 0;
}

/** A recording is known by its manifest. (An empty folder is replaced before any kind is asked: checkTargetReplaceable.) */
async function isRecordingFolder(target: string): Promise<boolean> {
  if (!(await isFolder(target))) return false;
  try {
    const manifest = JSON.parse(await readFile(path.join(target, 'manifest.json'), 'utf8')) as { format?: unknown };
    return manifest?.format === RECORDING_FORMAT;
  } catch {
    return false;
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Enough of an SVG file to find its root element after an XML declaration or a comment. */
const SVG_PROBE_BYTES = 512;
/** Enough of a JSON-lines file to hold its first line. */
const JSON_LINE_PROBE_BYTES = 1 << 16;

async function isPicture(file: string): Promise<boolean> {
  const head = await firstBytes(file, SVG_PROBE_BYTES);
  return head.length === 0 || head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE) || /<svg[\s>]/.test(head.toString('utf8'));
}

export const outputKinds = {
  recording: {
    name: 'recording',
    folder: true,
    looksLike: 'a folder with a walkout manifest.json',
    recognise: isRecordingFolder,
  },
  picture: {
    name: 'picture',
    folder: false,
    looksLike: 'an SVG or PNG file',
    recognise: async (file) => !(await isFolder(file)) && (await isPicture(file)),
  },
  pictures: {
    name: 'folder of pictures',
    folder: true,
    looksLike: 'a folder holding only .png files',
    recognise: async (target) => (await isFolder(target)) && (await readdir(target)).every((name) => name.endsWith('.png')),
  },
  detections: {
    name: 'detections file',
    folder: false,
    looksLike: 'a JSON-lines file of camera.poses-detected events',
    recognise: async (file) => {
      if (await isFolder(file)) return false;
      const firstLine = (await firstBytes(file, JSON_LINE_PROBE_BYTES)).toString('utf8').split('\n')[0];
      if (firstLine === '') return true;
      try {
        return CameraPosesDetected.safeParse(JSON.parse(firstLine)).success;
      } catch {
        return false;
      }
    },
  },
  store: {
    name: 'store file',
    folder: false,
    looksLike: 'a JSON store description with a layout and a planogram',
    recognise: async (file) => {
      if (await isFolder(file)) return false;
      try {
        const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
        return typeof json === 'object' && json !== null && 'layout' in json && 'planogram' in json;
      } catch {
        return false;
      }
    },
  },
} as const satisfies Record<string, OutputKind>;

export interface OutputRequest {
  /** The verb, for messages: "sim", "import plates". */
  verb: string;
  /** The option that names the target, for messages. */
  option?: string;
  target: string;
  kind: OutputKind;
  /** What the verb reads, each under the option (or argument) that names it; absent ones are skipped. */
  inputs?: Record<string, string | undefined>;
  /** Replace what is at the target even when it is not what the verb makes. */
  force?: boolean;
}

/** Work in progress beside the target: `path` is where to write; `commit` puts it in place, `discard` removes it. */
export interface OutputInProgress {
  readonly path: string;
  /** Throws, touching nothing, what commit would throw if something it may not replace appeared at the target while the work ran. */
  checkTarget(): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** A target that passed every check; nothing has been touched yet. */
export interface Output {
  readonly target: string;
  /** Starts the work beside the target. */
  begin(): Promise<OutputInProgress>;
  /** Runs `work` on a new folder or file beside the target and puts it in place when it succeeds; on failure, removes it and rethrows. */
  write<T>(work: (into: string) => Promise<T>): Promise<T>;
}

/**
 * Runs `work` on several outputs at once (absent ones are skipped: `into` has no path for them) and
 * puts them all in place when it succeeds. When the work fails, or any target has since become
 * something that may not be replaced, every output is discarded and none is put in place. A commit
 * that still fails after that check (a rename refused) discards the outputs not yet committed; those
 * committed before it stay, each one whole.
 */
export async function writeOutputs<Name extends string, T>(
  outputs: Record<Name, Output | undefined>,
  work: (into: Record<Name, string | undefined>) => Promise<T>,
): Promise<T> {
  const names = Object.keys(outputs) as Name[];
  const begun = new Map<Name, OutputInProgress>();
  let result: T;
  try {
    for (const name of names) {
      const output = outputs[name];
      if (output) begun.set(name, await output.begin());
    }
    result = await work(Object.fromEntries(names.map((name) => [name, begun.get(name)?.path])) as Record<Name, string | undefined>);
    for (const inProgress of begun.values()) await inProgress.checkTarget();
  } catch (error) {
    await discardAll(begun.values());
    throw error;
  }
  const pending = [...begun.values()];
  while (pending.length > 0) {
    const inProgress = pending.shift()!;
    try {
      await inProgress.commit(); // a commit that fails removes its own work
    } catch (error) {
      await discardAll(pending);
      throw error;
    }
  }
  return result;
}

/** Discards every one; what made us discard is the error worth reporting, so a failing discard does not replace it. */
async function discardAll(inProgress: Iterable<OutputInProgress>): Promise<void> {
  for (const each of inProgress) await each.discard().catch(() => undefined);
}

/** Checks the target (see the file comment) and returns an Output that writes to it. Touches nothing. */
export async function prepareOutput(request: OutputRequest): Promise<Output> {
  await checkInputsExist(request);
  const target = await canonical(request.target);
  await checkTargetApartFromInputs(request, target);
  await checkTargetAwayFromWorkingFolder(request, target);
  await checkTargetReplaceable(request);
  const output: Output = {
    target: request.target,
    begin: () => beginOutput(request),
    write: (work) => writeOutputs({ output }, (into) => work(into.output!)),
  };
  return output;
}

function refuse(request: OutputRequest, why: string, code: 'USAGE' | 'OUTPUT_REFUSED' = 'OUTPUT_REFUSED'): WalkoutError {
  return new WalkoutError(code, `${request.option ?? '--out'} ${request.target} ${why}; nothing was written`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The absolute path with symbolic links resolved, also for a path that does not exist yet. */
async function canonical(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return path.join(await realpath(existing), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(existing) === existing) throw error;
      missing.push(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
}

const isWithin = (inner: string, outer: string) => inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);

async function checkInputsExist(request: OutputRequest): Promise<void> {
  for (const [option, input] of Object.entries(request.inputs ?? {}))
    if (input !== undefined && !(await exists(input)))
      throw new WalkoutError('USAGE', `walkout ${request.verb}: ${option} ${input} does not exist; nothing was written (${request.option ?? '--out'} ${request.target} is as it was)`);
}

/** `target` is request.target made canonical. */
async function checkTargetApartFromInputs(request: OutputRequest, target: string): Promise<void> {
  for (const [option, input] of Object.entries(request.inputs ?? {})) {
    if (input === undefined) continue;
    const read = await canonical(input);
    if (read === target) throw refuse(request, `is ${option}, which walkout ${request.verb} reads`);
    if (isWithin(read, target)) throw refuse(request, `holds ${option} ${input}, which walkout ${request.verb} reads`);
    if (isWithin(target, read)) throw refuse(request, `lies inside ${option} ${input}, which walkout ${request.verb} reads: write it elsewhere`);
  }
}

/** `target` is request.target made canonical. */
async function checkTargetAwayFromWorkingFolder(request: OutputRequest, target: string): Promise<void> {
  const here = await canonical(process.cwd());
  if (target === here || isWithin(here, target)) throw refuse(request, `holds the folder this command runs in (${here})`);
}

async function checkTargetReplaceable(request: OutputRequest): Promise<void> {
  if (!(await exists(request.target))) return;
  const { kind } = request;
  if (!kind.folder && (await isFolder(request.target))) throw refuse(request, `is a folder, and walkout ${request.verb} writes a ${kind.name} file: name a file`);
  if (kind.folder && (await isEmptyFolder(request.target))) return;
  if (request.force || (await kind.recognise(request.target))) return;
  throw refuse(
    request,
    `already exists and is not a ${kind.name} (${kind.looksLike}), so walkout ${request.verb} will not replace it. ` +
      `Name another ${request.option ?? '--out'}, or add --force to replace it and everything in it`,
  );
}

/** Sync clean-ups of work in progress, run when a signal ends the process before it finished. */
const unfinished = new Set<() => void>();
const STOPPING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onStoppingSignal(signal: NodeJS.Signals): void {
  for (const cleanUp of unfinished) cleanUp();
  unfinished.clear();
  for (const each of STOPPING_SIGNALS) process.off(each, onStoppingSignal);
  // Without our handler the signal does what it would have done: end the process.
  process.kill(process.pid, signal);
}

function watchSignals(cleanUp: () => void): () => void {
  if (unfinished.size === 0) for (const signal of STOPPING_SIGNALS) process.on(signal, onStoppingSignal);
  unfinished.add(cleanUp);
  return () => {
    unfinished.delete(cleanUp);
    if (unfinished.size === 0) for (const signal of STOPPING_SIGNALS) process.off(signal, onStoppingSignal);
  };
}

/** Creates the target's missing parent folders; returns a function that removes those still empty. */
async function makeParents(parent: string): Promise<() => Promise<void>> {
  const firstCreated = await mkdir(parent, { recursive: true });
  return async () => {
    if (firstCreated === undefined) return;
    for (let folder = parent; isWithin(folder, firstCreated) || folder === firstCreated; folder = path.dirname(folder)) {
      try {
        await rmdir(folder);
      } catch {
        return; // not empty: someone else put something there
      }
    }
  };
}

async function beginOutput(request: OutputRequest): Promise<OutputInProgress> {
  const target = path.resolve(request.target);
  const parent = path.dirname(target);
  const name = path.basename(target);
  const removeMadeParents = await makeParents(parent);
  // Hidden and named after the target, so a user who sees one knows what it was; made by mkdir, not
  // mkdtemp, so that the recording gets the permissions any new folder gets, not mkdtemp's owner-only.
  const scratch = path.join(parent, `.${name}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(scratch);
  const into = request.kind.folder ? scratch : path.join(scratch, name);
  let aside: string | undefined;
  const cleanUpNow = () => {
    rmSync(scratch, { recursive: true, force: true });
    if (aside && existsSync(aside)) {
      if (!existsSync(target)) renameSync(aside, target);
      else rmSync(aside, { recursive: true, force: true });
    }
  };
  const stopWatching = watchSignals(cleanUpNow);
  let settled = false;
  const settle = () => {
    if (settled) throw new Error(`output ${target} was already committed or discarded`);
    settled = true;
    stopWatching();
  };
  return {
    path: into,
    checkTarget: () => checkTargetReplaceable(request),
    async discard() {
      settle();
      await rm(scratch, { recursive: true, force: true });
      await removeMadeParents();
    },
    async commit() {
      try {
        // Something may have appeared at the target while the work ran.
        await checkTargetReplaceable(request);
        if (request.kind.folder) {
          if (await exists(target)) {
            aside = path.join(parent, `.${name}.replaced-${randomBytes(4).toString('hex')}`);
            await rename(target, aside);
          }
          try {
            await rename(scratch, target);
          } catch (error) {
            if (aside) await rename(aside, target);
            aside = undefined;
            throw error;
          }
          if (aside) await rm(aside, { recursive: true, force: true });
        } else {
          // Renaming a file over a file replaces it in one step.
          await rename(into, target);
          await rm(scratch, { recursive: true, force: true });
        }
      } catch (error) {
        cleanUpNow();
        settle();
        throw error;
      }
      settle();
    },
  };
}
