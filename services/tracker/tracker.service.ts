import {
  SCHEMA_VERSION,
  WalkoutError,
  type CameraPosesDetected,
  type PeopleTracked,
  type StoreIndex,
  type TrackedPerson,
  type topics,
} from '../../libs/contracts/index.ts';
import { RecentIds, type Bus, type Subscription } from '../../libs/bus/index.ts';
import { DEFAULT_FUSION_OPTIONS, fuseViews, type FusedPerson, type FusionOptions } from '../../libs/tracking/multiview.pose.ts';
import { DEFAULT_TRACKER_OPTIONS, storePlaces, trackPeople, type TrackerOptions } from '../../libs/tracking/people.tracker.ts';
import type { Logger } from '../../libs/log/logger.ts';

/**
 * The tracker: every camera's poses in (`camera.poses-detected`), everyone in the store out, once an
 * instant, in 3D and on their tracks (`tracking.people-tracked`, keyed by store).
 *
 * Poses of different cameras within half a frame of each other are one instant. The bus keeps each
 * camera's poses in order but not the cameras in step with each other (each is its own partition), so
 * an instant is fused (libs/tracking/multiview.pose.ts) once every camera has reported it or gone
 * past it: once the earliest of the cameras' latest poses is later than it. A camera not heard from
 * for `idleMs` (wall clock) stops holding instants back until it is heard again: live, where a
 * camera that goes quiet has failed. A replay through a camera stage slower than the replay sets it
 * to Infinity: there a consumer may take one camera's whole backlog before the next camera's (the
 * in-process bus does), and every camera's poses do come. Following people settles
 * their sides with what comes after as well as before (libs/tracking/people.tracker.ts), so an
 * instant is published `lagMs` after it happened: the tracker is run over the instants from
 * `windowMs` before it to the newest, and the instant is published as that run settled it. Each
 * run's tracks are matched to the ids already published through the people they share, so a
 * person keeps their track id from one run to the next.
 *
 * It needs every camera of the store: run one member of the `tracker` group per store (the input is
 * keyed by camera, so several members would each see only some cameras).
 */
export const TRACKER_GROUP = 'tracker';

export interface TrackerServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  logger?: Logger;
  /** A camera not heard from for this long (wall clock, ms) no longer holds instants back. */
  idleMs?: number;
  /** How long after an instant (store clock, ms) it is settled and published. */
  lagMs?: number;
  /** How far back (ms) each tracking run looks from the instant it settles. */
  windowMs?: number;
  fusion?: FusionOptions;
  tracker?: TrackerOptions;
}

export interface TrackerServiceStats {
  /** Pose events taken (one a camera frame; not counting redeliveries or refused ones). */
  poses: number;
  /** Instants fused so far. */
  instants: number;
  /** Instants published. */
  published: number;
  /** Pose events that came after their instant was fused (left out). */
  late: number;
  /** Pose events delivered again. */
  redelivered: number;
  /** Track ids handed out. */
  tracks: number;
}

export interface TrackerService {
  start(): Promise<void>;
  /** Stops taking poses, then fuses and publishes every instant still held. */
  stop(): Promise<void>;
  ingestPoses(message: CameraPosesDetected): Promise<void>;
  /** Fuses and publishes every instant held, however recent (end of a replay). */
  flush(): Promise<void>;
  stats(): TrackerServiceStats;
}

interface PendingInstant {
  ts: number;
  byCamera: Map<string, CameraPosesDetected>;
}

interface FusedInstant {
  ts: number;
  cameraIds: string[];
  people: FusedPerson[];
  /** Track id of each person once published (null: on no track). */
  ids?: Array<string | null>;
}

export function createTrackerService(deps: TrackerServiceDependencies): TrackerService {
  const { index, bus } = deps;
  const idleMs = deps.idleMs ?? 2000;
  const lagMs = deps.lagMs ?? 1000;
  const windowMs = deps.windowMs ?? 3000;
  const fusion = deps.fusion ?? DEFAULT_FUSION_OPTIONS;
  const tracker = deps.tracker ?? DEFAULT_TRACKER_OPTIONS;
  const { shelves, doorways } = storePlaces(index.store);
  const cameraCount = index.cameras.size;
  const fastest = Math.max(...[...index.cameras.values()].map((c) => c.fps));
  /** Frames of different cameras closer than half a frame are one instant. */
  const toleranceMs = 500 / fastest;
  const pending: PendingInstant[] = [];
  const fused: FusedInstant[] = [];
  /** Pose events taken lately, to drop redeliveries. */
  const seen = new RecentIds();
  const stats: TrackerServiceStats = { poses: 0, instants: 0, published: 0, late: 0, redelivered: 0, tracks: 0 };
  let fusedUpTo = -Infinity;
  /** Per camera: the store time of its latest poses, and when (wall clock) they came. */
  const latest = new Map<string, { ts: number; heardAt: number }>();
  const startedAt = Date.now();
  /** Store time every camera still reporting has reached (+Infinity when none is). */
  const watermark = () => {
    const now = Date.now();
    let mark = Infinity;
    for (const cameraId of index.cameras.keys()) {
      const heard = latest.get(cameraId);
      if (now - (heard?.heardAt ?? startedAt) > idleMs) continue;
      mark = Math.min(mark, heard?.ts ?? -Infinity);
    }
    return mark;
  };
  let subscription: Subscription | undefined;

  const fuse = (instant: PendingInstant) => {
    const entries = [...instant.byCamera.entries()].sort(([a], [b]) => a.localeCompare(b));
    const views = entries.map(([cameraId, message]) => ({ camera: index.cameras.get(cameraId)!, poses: message.poses }));
    fused.push({ ts: instant.ts, cameraIds: entries.map(([cameraId]) => cameraId), people: fuseViews(views, fusion) });
    fusedUpTo = instant.ts;
    stats.instants++;
  };

  /**
   * Publishes every fused instant at or before `until`, each as a tracking run over its window (from
   * windowMs before it to the newest instant) settles it.
   */
  const publishUpTo = async (until: number) => {
    for (;;) {
      const next = fused.findIndex((f) => !f.ids);
      if (next < 0 || fused[next].ts > until) return;
      const from = fused.findIndex((f) => f.ts >= fused[next].ts - windowMs);
      const window = fused.slice(from);
      const run = trackPeople(window, tracker, shelves, doorways);
      // Each run's track takes the id its people already published have (most of them; longer tracks
      // choose first); a track of the instant being published with no such id gets a new one.
      const w = next - from;
      const ids = new Map<number, string>();
      const taken = new Set<string>();
      for (const track of [...run.tracks].sort((a, b) => b.points.length - a.points.length)) {
        const votes = new Map<string, number>();
        for (const point of track.points) {
          const id = window[point.instant].ids?.[point.person];
          if (id && !taken.has(id)) votes.set(id, (votes.get(id) ?? 0) + 1);
        }
        const [best] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [];
        const id = best ?? (track.points.some((point) => point.instant === w) ? `track-${++stats.tracks}` : undefined);
        if (!id) continue;
        taken.add(id);
        ids.set(track.id, id);
      }
      // Publish the instant this run was for, with each of its people on their track.
      const instant = window[w];
      const settled = run.instants[w].people;
      const trackOf = new Map<number, string>();
      for (const track of run.tracks) for (const point of track.points) if (point.instant === w) trackOf.set(point.person, ids.get(track.id)!);
      const trackIds = settled.map((_, p) => trackOf.get(p) ?? null);
      instant.ids = trackIds;
      const people: TrackedPerson[] = [];
      settled.forEach((person, p) => {
        const trackId = trackIds[p];
        // Someone on no track (too little of them fused to place) is not published.
        if (!trackId) return;
        people.push({
          trackId,
          keypoints: person.keypoints.map((k) => (k ? (k.point.map((v) => Math.round(v * 1000) / 1000) as [number, number, number]) : null)),
          cameras: [...new Set(person.members.map((m) => instant.cameraIds[m.view]))],
        });
      });
      const message: PeopleTracked = {
        schemaVersion: SCHEMA_VERSION,
        eventId: `tracked-${index.store.id}-${instant.ts}`,
        storeId: index.store.id,
        ts: instant.ts,
        people,
      };
      await bus.publish('tracking.people-tracked', message);
      stats.published++;
      // Later runs look back windowMs from the instant they settle; older instants are done with.
      while (fused.length && fused[0].ts < instant.ts - windowMs) fused.shift();
    }
  };

  const ingestPoses = async (message: CameraPosesDetected) => {
    if (message.storeId !== index.store.id || !index.cameras.has(message.cameraId))
      throw new WalkoutError(
        'MESSAGE_INVALID',
        `poses ${message.eventId} are from camera ${message.cameraId} of store ${message.storeId}; this tracker follows the cameras of ${index.store.id}`,
      );
    if (!seen.add(message.eventId)) {
      stats.redelivered++;
      return;
    }
    stats.poses++;
    if (message.ts <= fusedUpTo) {
      stats.late++;
      return;
    }
    let instant = pending.find((p) => Math.abs(p.ts - message.ts) <= toleranceMs && !p.byCamera.has(message.cameraId));
    if (!instant) {
      instant = { ts: message.ts, byCamera: new Map() };
      pending.push(instant);
      pending.sort((a, b) => a.ts - b.ts);
    }
    instant.byCamera.set(message.cameraId, message);
    latest.set(message.cameraId, { ts: Math.max(message.ts, latest.get(message.cameraId)?.ts ?? -Infinity), heardAt: Date.now() });
    // Fuse in time order: an instant every camera reported, or one every camera still reporting is past.
    const mark = watermark();
    while (pending.length && (pending[0].byCamera.size === cameraCount || pending[0].ts + toleranceMs < mark)) fuse(pending.shift()!);
    await publishUpTo(fusedUpTo - lagMs);
  };

  const flush = async () => {
    while (pending.length) fuse(pending.shift()!);
    await publishUpTo(Infinity);
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: TRACKER_GROUP,
        topics: ['camera.poses-detected'],
        handle: (delivery) => ingestPoses(delivery.message as CameraPosesDetected),
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
      await flush();
    },
    ingestPoses,
    flush,
    stats: () => ({ ...stats }),
  };
}
