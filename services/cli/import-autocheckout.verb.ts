import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { WalkoutError } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput, writeOutputs } from '../../libs/cli/output.ts';
import { report, requireString, type Verb } from '../../libs/cli/verb.ts';
import { AUTOCHECKOUT_FOLDERS, importAutocheckout } from '../../libs/autocheckout/autocheckout.import.ts';
import { LENGTH_UNITS, type LengthUnit } from '../../libs/autocheckout/store-meta.units.ts';
import { openRecording } from '../../libs/recording/index.ts';
import { writeCalibrationOverlay } from '../../libs/viz/calibration.overlay.ts';

const UNITS = Object.keys(LENGTH_UNITS).join('|');
const SHOWN_ISSUES = 20;

const USAGE = `walkout import autocheckout <folder> --products <csv> --out <recording> [--overlay <dir>] [--frames <dir>]
                            [--calibration-unit ${UNITS}] [--layout-unit ${UNITS}] [--store-id ID] [--force] [--json]

Imports a store of the AutoCheckout competition layout (AiFi Nanostore, CPS-IoT Week 2020):
  <folder>/${AUTOCHECKOUT_FOLDERS.storeMeta}/   Gondolas.json, Shelves.json, Plates.json (poses relative to their parent,
                 translation plus Rodrigues vector), calibration.json (normalised K, camera-to-world Tw,
                 OpenCV distortion), camera_mapping.json (camera IP to id); depth sensors are skipped
  <folder>/${AUTOCHECKOUT_FOLDERS.plates}/       gondola_{g}_shelf_{s}_plate_{p}.csv, rows unix_seconds,grams (optional; read as
                 \`walkout import plates\` reads them)
  <folder>/${AUTOCHECKOUT_FOLDERS.videos}/       <camera IP>_<UTC start>.<ext>, one per camera (optional; re-encoded as H.264)
  --products <csv>   name,gondola,shelf,plate,weight,price (one row per product and plate): neighbouring
                     plates with one product make one lane
  --out <recording>  the recording to write: the store, load-cell samples and video; replaced once the
                     import succeeded if it is a recording, anything else only with --force
  --overlay <dir>    also draw every camera's view of the imported shelves and plates over its frame
                     in --frames (default <folder>/camera_angles, <camera id>.png) into <dir>/<id>.png
  --calibration-unit, --layout-unit
                     the unit of calibration.json, or of the layout files, when not the one found:
                     each is found from the camera heights and the tallest gondola, and reported
Then replay it: \`walkout eval shelf <recording>\`, \`walkout eval receipts <recording> --people tracked\`.`;

function unitOption(value: unknown, option: string): LengthUnit | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value in LENGTH_UNITS) return value as LengthUnit;
  throw new WalkoutError('USAGE', `walkout import autocheckout: --${option} is one of ${UNITS}, not ${JSON.stringify(value)}`);
}

export const importAutocheckoutVerb: Verb = {
  name: 'import autocheckout',
  summary: 'Import a store of the AutoCheckout layout (store_meta, weights, videos) into a recording.',
  usage: USAGE,
  options: {
    products: { type: 'string' },
    out: { type: 'string' },
    overlay: { type: 'string' },
    frames: { type: 'string' },
    'calibration-unit': { type: 'string' },
    'layout-unit': { type: 'string' },
    'store-id': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout import autocheckout: give one folder\n\n${USAGE}`);
    const [folder] = positionals;
    const out = requireString(values, 'out', importAutocheckoutVerb);
    const productsCsv = requireString(values, 'products', importAutocheckoutVerb);
    const quiet = values.json === true;
    const units = { calibration: unitOption(values['calibration-unit'], 'calibration-unit'), layout: unitOption(values['layout-unit'], 'layout-unit') };
    const overlayDir = typeof values.overlay === 'string' ? values.overlay : undefined;
    const framesDir = typeof values.frames === 'string' ? values.frames : overlayDir ? path.join(folder, 'camera_angles') : undefined;
    const inputs = { '<folder>': folder, '--products': productsCsv, '--frames': framesDir };
    const force = values.force === true;
    const outputs = {
      recording: await prepareOutput({ verb: importAutocheckoutVerb.name, target: out, kind: outputKinds.recording, inputs, force }),
      overlay: overlayDir ? await prepareOutput({ verb: importAutocheckoutVerb.name, option: '--overlay', target: overlayDir, kind: outputKinds.pictures, inputs, force }) : undefined,
    };
    const imported = await writeOutputs(outputs, async (into) => {
      const result = await importAutocheckout({
        folder,
        productsCsv,
        out: into.recording!,
        storeId: typeof values['store-id'] === 'string' ? values['store-id'] : undefined,
        units,
        onFile: quiet ? undefined : (file) => process.stderr.write(`reading ${file}\n`),
      });
      const overlays = into.overlay && framesDir ? await drawOverlays(into.recording!, framesDir, into.overlay) : [];
      return { ...result, overlays: overlays.map((name) => path.join(overlayDir!, name)) };
    });
    const result = { out, ...imported };
    report(quiet, result, () =>
      [
        `wrote ${out}: ${result.gondolas} gondolas, ${result.shelves} shelves, ${result.plates} plates, ${result.lanes} lanes, ${result.products} products, ${result.cameras} cameras`,
        `  units: calibration in ${result.units.calibration}, layout in ${result.units.layout}`,
        ...result.notes.map((note) => `  ${note}`),
        `  ${result.ticks} load-cell ticks from ${result.rowsAccepted} rows (${result.rowsRejected} left out, ${result.rowsReordered} put back in time order); ${result.videos.length} video(s): ${result.videos.map((v) => `${v.cameraId} ${v.frames} frames`).join(', ') || 'none'}`,
        ...(result.overlays.length ? [`  overlays: ${result.overlays.join(', ')}`] : []),
        `  ${result.errors} error(s), ${result.warnings} warning(s)`,
        ...result.issues.slice(0, SHOWN_ISSUES).map((i) => `  ${i.file}:${i.line}: ${i.severity}: ${i.message}`),
      ].join('\n'),
    );
    if (result.errors > 0)
      throw new WalkoutError(
        'RECORDING_INVALID',
        `${result.errors} error(s) in the input (listed above; the recording holds every good row)${result.firstError ? `: first at ${result.firstError.file}:${result.firstError.line}: ${result.firstError.message}` : ''}`,
        { details: result.issues },
      );
  },
};

/** Each camera with a frame `<source id>.png` in `framesDir` (camera cam-3's is 3.png) drawn into `into`. */
async function drawOverlays(recordingDir: string, framesDir: string, into: string): Promise<string[]> {
  const recording = await openRecording(recordingDir);
  const frames = new Set(await readdir(framesDir));
  await mkdir(into, { recursive: true });
  const written: string[] = [];
  for (const camera of recording.index.store.cameras) {
    const frame = `${camera.id.replace(/^cam-/, '')}.png`;
    if (!frames.has(frame)) continue;
    await writeCalibrationOverlay(recording.index.store, camera, path.join(framesDir, frame), path.join(into, `${camera.id}.png`));
    written.push(`${camera.id}.png`);
  }
  if (written.length === 0) throw new WalkoutError('USAGE', `walkout import autocheckout: --overlay found no frame <camera id>.png of any camera in ${framesDir}`);
  return written;
}
