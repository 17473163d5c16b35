import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { WalkoutError } from '../contracts/index.ts';

/**
 * TF.js for Node, the fastest way this machine allows: the native @tensorflow/tfjs-node binding when
 * it is installed, otherwise plain @tensorflow/tfjs on the WebAssembly backend (SIMD, no native
 * build, which is what installs everywhere). Loaded once per process and shared by every model.
 */
export type Tf = typeof TfModule;
export type TfBackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface TfRuntime {
  tf: Tf;
  /** The backend in use: 'tensorflow' (native), 'wasm' or 'cpu'. */
  backend: string;
}

const require = createRequire(import.meta.url);
// A variable, so TypeScript does not look for the optional package's types.
const TFJS_NODE = '@tensorflow/tfjs-node';

let loading: Promise<TfRuntime> | undefined;
let loadedChoice: TfBackendChoice | undefined;

export function loadTfRuntime(choice: TfBackendChoice = 'auto'): Promise<TfRuntime> {
  if (loading && (choice === 'auto' || choice === loadedChoice)) return loading;
  if (loading)
    throw new WalkoutError('MODEL_UNAVAILABLE', `TF.js is already running on the ${loadedChoice} backend; one backend per process`);
  loadedChoice = choice;
  loading = load(choice).catch((cause) => {
    loading = undefined;
    throw cause;
  });
  return loading;
}

async function load(choice: TfBackendChoice): Promise<TfRuntime> {
  if (choice === 'auto' || choice === 'tensorflow') {
    try {
      const tf = (await import(TFJS_NODE)) as Tf;
      await tf.ready();
      return { tf, backend: tf.getBackend() };
    } catch (cause) {
      if (choice === 'tensorflow')
        throw new WalkoutError('MODEL_UNAVAILABLE', `${TFJS_NODE} cannot be loaded: ${(cause as Error).message}`, { cause });
    }
  }
  const tf = await import('@tensorflow/tfjs');
  if (choice === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
    return { tf, backend: 'cpu' };
  }
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the backend reads its .wasm binaries from disk: point it at the package's dist folder.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") refused');
    await tf.ready();
    return { tf, backend: 'wasm' };
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `the TF.js WebAssembly backend cannot start: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A TF.js graph model from files on disk (model.json and its weight shards). Plain @tensorflow/tfjs
 * has no file:// loader in Node (tfjs-node adds one), so this reads the files and hands TF.js the
 * artifacts directly, which works on every backend.
 */
export async function loadGraphModelFromFile(tf: Tf, modelJsonPath: string): Promise<TfModule.GraphModel> {
  let manifest: {
    modelTopology: unknown;
    weightsManifest: Array<{ paths: string[]; weights: TfModule.io.WeightsManifestEntry[] }>;
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: unknown;
    userDefinedMetadata?: Record<string, unknown>;
  };
  try {
    manifest = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `cannot read model ${modelJsonPath}: ${(cause as Error).message}`, { cause });
  }
  const dir = path.dirname(modelJsonPath);
  const shards: Uint8Array[] = [];
  for (const group of manifest.weightsManifest)
    for (const shard of group.paths) {
      try {
        shards.push(await readFile(path.join(dir, shard)));
      } catch (cause) {
        throw new WalkoutError('MODEL_UNAVAILABLE', `cannot read weights ${shard} of ${modelJsonPath}: ${(cause as Error).message}`, { cause });
      }
    }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  const artifacts: TfModule.io.ModelArtifacts = {
    modelTopology: manifest.modelTopology as TfModule.io.ModelArtifacts['modelTopology'],
    weightSpecs: manifest.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer,
    format: manifest.format,
    generatedBy: manifest.generatedBy,
    convertedBy: manifest.convertedBy ?? undefined,
    signature: manifest.signature as TfModule.io.ModelArtifacts['signature'],
    userDefinedMetadata: manifest.userDefinedMetadata as TfModule.io.ModelArtifacts['userDefinedMetadata'],
  };
  try {
    return await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `TF.js cannot build ${modelJsonPath}: ${(cause as Error).message}`, { cause });
  }
}
