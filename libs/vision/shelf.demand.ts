import type { Camera, Gondola, ShelfActivityReported, StoreIndex } from '../contracts/index.ts';
import { inImage, projectPoint } from '../geometry/camera.ts';

/**
 * Shelf cameras read on demand, driven by their shelves' weights. A shelf camera's views matter for
 * attribution around shelf events: fusion weighs where wrists were from EVIDENCE_BEFORE_MS before a
 * change to EVIDENCE_AFTER_MS after it (libs/fusion/hand.evidence.ts). Load cells are cheap and always
 * on, so a shelf camera's frame is read only when a shelf it looks at was active (a segment open:
 * weight moving, or the readings after a change being averaged) within `preRollMs` after the frame or
 * `tailMs` before it; the others are passed over.
 *
 * The shelf side says how far it has judged each shelf (`shelf.activity-reported`, every
 * ACTIVITY_REPORT_MS of store time and at each change), so a frame is decided only once every shelf
 * its camera looks at has been judged `preRollMs` past it: until then it waits (`wait`), and the
 * camera service keeps it, decoded, as the pre-roll that a change may still call for. The decision
 * does not depend on which message arrived first, so a replay reads the same frames however the
 * stages are scheduled. A silent shelf (its samples stopped) holds no frame back.
 */

/** Frames read before a shelf's activity starts, ms: fusion's 1.5 s of evidence before a change, the onset's backdating (0.2 s) and room. */
export const SHELF_PRE_ROLL_MS = 2_000;
/**
 * Frames read after a shelf comes to rest, ms. Rest comes AFTER_MS (0.5 s) after the change settled
 * (libs/shelf/shelf.detector.ts), and fusion looks 1 s past the change's end: 0.5 s more, and room.
 */
export const SHELF_TAIL_MS = 1_000;

export type FrameDecision = 'read' | 'pass' | 'wait';

export interface ShelfDemandOptions {
  /** Read a frame this long (store ms) before a shelf it looks at becomes active. */
  preRollMs: number;
  /** Read a frame this long (store ms) after a shelf it looks at comes to rest. */
  tailMs: number;
}

/** One stretch of a shelf's activity, store ms; `toMs` is Infinity while it lasts. */
interface ActiveSpan {
  fromMs: number;
  toMs: number;
}

interface ShelfTimeline {
  spans: ActiveSpan[];
  /** How far the shelf has been judged (the newest report's ts); -Infinity before any. */
  knownUntil: number;
  silent: boolean;
}

/** How far in front of a lane a reaching hand is looked for, metres. */
const REACH_M = 0.2;
const OUTWARD: Record<Gondola['facing'], [number, number]> = { '+x': [1, 0], '-x': [-1, 0], '+y': [0, 1], '-y': [0, -1] };

/**
 * Where hands reaching into a shelf are, store frame: in front of each lane's front face by REACH_M,
 * at the lane's middle height.
 */
function reachPoints(index: StoreIndex, shelfId: string): Array<[number, number, number]> {
  const { shelf, gondola } = index.shelves.get(shelfId)!;
  const [nx, ny] = OUTWARD[gondola.facing];
  return shelf.lanes.map(({ box }) => {
    const front = (axis: 0 | 1, n: number) => (n > 0 ? box.max[axis] : n < 0 ? box.min[axis] : (box.min[axis] + box.max[axis]) / 2) + n * REACH_M;
    return [front(0, nx), front(1, ny), (box.min[2] + box.max[2]) / 2];
  });
}

/** The shelves a camera looks at: those where a hand reaching into one of its lanes is in its image. */
export function shelvesInView(camera: Camera, index: StoreIndex): string[] {
  return [...index.shelves.keys()].filter((shelfId) => reachPoints(index, shelfId).some((point) => inImage(camera, projectPoint(camera, point))));
}

/** Each shelf camera of the store with the shelves it looks at. */
export function shelfCameraShelves(index: StoreIndex): Map<string, string[]> {
  return new Map([...index.cameras.values()].filter((camera) => camera.kind === 'shelf').map((camera) => [camera.id, shelvesInView(camera, index)]));
}

export class ShelfDemand {
  private readonly shelves = new Map<string, ShelfTimeline>();
  private readonly watchersOf = new Map<string, string[]>();

  /** `watching`: each camera read on demand, with the shelves it looks at. */
  constructor(
    private readonly watching: ReadonlyMap<string, readonly string[]>,
    readonly options: Readonly<ShelfDemandOptions>,
  ) {
    if (!(options.preRollMs >= 0) || !(options.tailMs >= 0)) throw new RangeError(`pre-roll and tail are 0 ms or more, not ${options.preRollMs} and ${options.tailMs}`);
    for (const [cameraId, shelfIds] of watching)
      for (const shelfId of shelfIds) {
        const cameras = this.watchersOf.get(shelfId) ?? [];
        cameras.push(cameraId);
        this.watchersOf.set(shelfId, cameras);
        if (!this.shelves.has(shelfId)) this.shelves.set(shelfId, { spans: [], knownUntil: -Infinity, silent: false });
      }
  }

  /** Whether the camera is read on demand. */
  onDemand(cameraId: string): boolean {
    return this.watching.has(cameraId);
  }

  /** The cameras read on demand that look at a shelf (none for a shelf no camera looks at). */
  watchers(shelfId: string): readonly string[] {
    return this.watchersOf.get(shelfId) ?? [];
  }

  /** How far a shelf has been judged, store ms (-Infinity before its first report, or for a shelf no camera looks at). */
  knownUntil(shelfId: string): number {
    return this.shelves.get(shelfId)?.knownUntil ?? -Infinity;
  }

  /**
   * Takes a shelf's report. False for a shelf no camera looks at, or a report before one already
   * taken (from before a restart); one at the same time is taken again (a redelivery changes nothing,
   * a silent shelf is reported at its last reading's time).
   */
  report(report: Pick<ShelfActivityReported, 'shelfId' | 'ts' | 'state' | 'since'>): boolean {
    const shelf = this.shelves.get(report.shelfId);
    if (!shelf || report.ts < shelf.knownUntil) return false;
    const open = shelf.spans.at(-1)?.toMs === Infinity ? shelf.spans.at(-1) : undefined;
    if (report.state === 'active') {
      if (!open) shelf.spans.push({ fromMs: report.since, toMs: Infinity });
    } else if (open) {
      open.toMs = Math.max(open.fromMs, report.since);
    }
    shelf.silent = report.state === 'silent';
    shelf.knownUntil = report.ts;
    return true;
  }

  /**
   * Whether the camera's frame at `ts` is read: `read` when a shelf it looks at is active within
   * the pre-roll after it or the tail before it, `pass` when every shelf it looks at has been judged
   * far enough past it without that (or is silent), `wait` otherwise. A camera that looks at no shelf
   * (or is not read on demand) is read.
   */
  decide(cameraId: string, ts: number): FrameDecision {
    const shelfIds = this.watching.get(cameraId);
    if (!shelfIds || shelfIds.length === 0) return 'read';
    const { preRollMs, tailMs } = this.options;
    let known = true;
    for (const shelfId of shelfIds) {
      const shelf = this.shelves.get(shelfId)!;
      if (shelf.spans.some((span) => span.fromMs <= ts + preRollMs && span.toMs >= ts - tailMs)) return 'read';
      if (!shelf.silent && shelf.knownUntil < ts + preRollMs) known = false;
    }
    return known ? 'pass' : 'wait';
  }

  /** Forgets the activity that ended before `ms` (no frame from then is still to be decided). */
  forgetBefore(ms: number): void {
    for (const shelf of this.shelves.values()) {
      const keep = shelf.spans.findIndex((span) => span.toMs >= ms - this.options.tailMs);
      shelf.spans = keep < 0 ? [] : shelf.spans.slice(keep);
    }
  }
}
