import type { Camera, FramePoseTruth, Vec3 } from '../contracts/index.ts';
import { progress } from '../cli/progress.ts';
import { RecordingWriter } from '../recording/index.ts';
import { simulateShelfLoadCells } from './loadcell.sim.ts';
import { hashString } from './random.ts';
import type { Simulation } from './store.sim.ts';
import type { Appearance } from './appearance.ts';

/**
 * Turns a simulation into a recording folder: gate events, load-cell samples, ground truth, and,
 * when a camera renderer is given, one H.264 video per camera with per-frame 2D pose truth.
 */

export interface ScenePerson {
  personId: string;
  keypoints: Vec3[];
  appearance: Appearance;
}

/** The 2D truth of the people one frame drew, as the renderer returns it. */
export type DrawnPeople = Array<{ personId: string; keypoints: [number, number, 0 | 1 | 2][]; box: [number, number, number, number] }>;

/** Renders and encodes one camera's frames; implemented over libs/render and libs/video. */
export interface CameraFootageWriter {
  open(camera: Camera, videoPath: string): Promise<{
    /** Renders the scene at one instant, encodes it, and returns the 2D truth of the people it drew. */
    frame(people: ScenePerson[], stock: ReadonlyMap<string, number>): Promise<DrawnPeople>;
    close(): Promise<void>;
  }>;
}

export interface WriteOptions {
  seed: number;
  footage?: CameraFootageWriter;
  /** Cameras to film; all of the store's when absent. */
  cameraIds?: string[];
  quiet?: boolean;
  compressLoadCells?: boolean;
}

const roundPx = (v: number) => Math.round(v * 100) / 100; // a hundredth of a pixel is finer than any model

export function peopleAt(sim: Simulation, t: number): ScenePerson[] {
  return sim.people
    .filter((p) => p.timeline.present(t))
    .map((p) => ({ personId: p.id, keypoints: p.timeline.keypointsAt(t), appearance: p.appearance }));
}

/** How many items each lane holds at store time t. */
export function stockAt(sim: Simulation, t: number): Map<string, number> {
  return new Map(sim.index.store.planogram.placements.map((pl) => [pl.laneId, sim.laneStockAt(pl.laneId, t)]));
}

/** The store time of a camera's frame i: frames start with the simulation, at the camera's rate. */
export const frameTime = (sim: Simulation, camera: Camera, i: number) => sim.startMs + Math.round((i * 1000) / camera.fps);

/** One line of truth/poses/<camera>.jsonl: what a frame drew, to a hundredth of a pixel. */
export function framePoseTruth(frameIndex: number, ts: number, people: DrawnPeople): FramePoseTruth {
  return {
    frameIndex,
    ts,
    people: people.map((p) => ({
      personId: p.personId,
      keypoints: p.keypoints.map(([x, y, v]) => [roundPx(x), roundPx(y), v] as [number, number, 0 | 1 | 2]),
      box: p.box.map(roundPx) as [number, number, number, number],
    })),
  };
}

export async function writeSimulation(sim: Simulation, dir: string, options: WriteOptions) {
  const { index } = sim;
  const writer = await RecordingWriter.create(
    dir,
    index.store,
    { kind: 'simulator', detail: `scenario ${sim.scenario.name}, seed ${options.seed}` },
    { compressLoadCells: options.compressLoadCells },
  );
  const gates = writer.gates();
  for (const line of sim.gateLines) gates.write(line);
  for (const visit of sim.visits) writer.truth.visits.write(visit);
  for (const action of sim.actions) writer.truth.actions.write(action);
  for (const receipt of sim.receipts) writer.truth.receipts.write(receipt);

  // Load cells: every shelf, every tick, from the load-cell physics.
  const shelves = [...index.shelves.values()];
  const cellsBar = progress('load cells', shelves.length, { unit: 'shelves', quiet: options.quiet });
  for (const { shelf } of shelves) {
    const cells = shelf.plates.map((p) => index.loadCellByPlate.get(p.id)!);
    const out = writer.loadCells(shelf.id, cells.map((c) => c.id), cells[0].sampleRateHz);
    let n = 0;
    for (const tick of simulateShelfLoadCells({
      index,
      shelfId: shelf.id,
      startMs: sim.startMs,
      endMs: sim.endMs,
      initialGrams: sim.initialPlateGrams,
      changes: sim.plateChanges.get(shelf.id) ?? [],
      seed: hashString(`${options.seed}:${shelf.id}`),
      faults: sim.faults.filter((f) => cells.some((c) => c.id === f.loadCellId)),
    })) {
      out.write(tick.ts, tick.grams);
      if (++n % 4096 === 0) await writer.settle();
    }
    cellsBar.tick();
  }
  cellsBar.done();

  // Skeletons at the fastest camera rate: the 3D truth trackers are scored against.
  const fps = Math.max(...index.store.cameras.map((c) => c.fps));
  const stepMs = 1000 / fps;
  const ticks = Math.floor((sim.endMs - sim.startMs) / stepMs) + 1;
  const tickTime = (i: number) => sim.startMs + Math.round(i * stepMs);
  for (let i = 0; i < ticks; i++) {
    const t = tickTime(i);
    writer.truth.skeletons.write({
      ts: t,
      people: sim.people
        .filter((p) => p.timeline.present(t))
        .map((p) => ({
          personId: p.id,
          ...(p.visitId ? { visitId: p.visitId } : {}),
          role: p.role,
          keypoints: p.timeline.keypointsAt(t).map((k) => k.map((v) => Math.round(v * 1000) / 1000) as Vec3),
        })),
    });
    if (i % 512 === 0) await writer.settle();
  }

  if (options.footage) {
    const cameras = index.store.cameras.filter((c) => !options.cameraIds || options.cameraIds.includes(c.id));
    const bar = progress('frames', cameras.reduce((s, c) => s + Math.floor(((sim.endMs - sim.startMs) * c.fps) / 1000) + 1, 0), {
      unit: 'frames',
      quiet: options.quiet,
    });
    for (const camera of cameras) {
      const stream = writer.camera(camera.id, camera.fps);
      const poses = writer.poses(camera.id);
      const video = await options.footage.open(camera, stream.videoPath);
      const frames = Math.floor(((sim.endMs - sim.startMs) * camera.fps) / 1000) + 1;
      for (let i = 0; i < frames; i++) {
        const t = frameTime(sim, camera, i);
        const people = await video.frame(peopleAt(sim, t), stockAt(sim, t));
        stream.frame(t);
        poses.write(framePoseTruth(i, t, people));
        bar.tick();
        if (i % 64 === 0) await writer.settle();
      }
      await video.close();
    }
    bar.done();
  }
  return writer.close({ startMs: sim.startMs, endMs: sim.endMs });
}
