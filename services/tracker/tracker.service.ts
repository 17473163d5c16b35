import {
  SCHEMA_VERSION,
  WalkoutError,
  type CameraPosesDetected,
  type DeviceHealthReported,
  type PeopleTracked,
  type StoreIndex,
  type TrackedPerson,
  type topics,
} from '../../libs/contracts/index.ts';
import { RecentIds, type Bus, type Delivery, type Release, type Subscription } from '../../libs/bus/index.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';
import { silentLogger } from '../../libs/log/logger.ts';
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
 * for `idleMs` (service clock) stops holding instants back until it is heard again: live, where a
 * camera that goes quiet has failed. A replay through a camera stage slower than the replay sets it
 * to Infinity: there a consumer may take one camera's whole backlog before the next camera's (the
 * in-process bus does), and every camera's poses do come. Either way a camera never holds more than
 * `maxPendingInstants` instants back: past that it is taken for silent, reported offline
 * (`device.health-reported`, and a log line), and the instants go on without it. Following people settles
 * their sides with what comes after as well as before (libs/tracking/people.tracker.ts), so an
 * instant is published `lagMs` after it happened: the tracker is run over the instants from
 * `windowMs` before it to the newest, and the instant is published as that run settled it. Each
 * run's tracks are matched to the ids already published through the people they share, so a
 * person keeps their track id from one run to the next.
 *
 * A frame passed over (`passedOver`: a shelf camera read on demand while its shelves were at rest)
 * adds no view; it counts as its camera's report of the instant, so instants do not wait for it.
 *
 * It needs every camera of the store: run one member of the `tracker` group per store (the input is
 * keyed by camera, so several members would each see only some cameras).
 *
 * Nothing is lost and nothing is applied twice: an instant is marked published only once it is
 * published (a failed publish fails the handler, and the redelivery publishes it); every pose event
 * is held (Delivery.hold) until its instant is published and the tracking window has passed it, so a
 * tracker restarted after a crash gets again every pose it needs; poses delivered again are taken
 * once. An instant's message is named after the instant, and a track after the instant and place it
 * was first published with, so a restart publishes the same instants under the same ids (a track
 * seen across a restart may get a new id: the ids published before are not known to the new process).
 */
/** Instants held back at most, waiting for a camera (a minute of a 10 fps store). */
export const MAX_PENDING_INSTANTS = 600;
export const TRACKER_GROUP = 'tracker';

export interface TrackerServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  logger?: Logger;
  clock?: Clock;
  /** A camera not heard from for this long (service clock, ms) no longer holds instants back. */
  idleMs?: number;
  /** Instants held back at most before a camera that holds them is taken for silent (default MAX_PENDING_INSTANTS). */
  maxPendingInstants?: number;
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
  /** Instants waiting for cameras now. */
  pending: number;
  /** Cameras taken for silent (reported offline). */
  silentCameras: number;
  /** Publishes that failed (tried again; the poses behind them stay uncommitted meanwhile). */
  publishFailures: number;
  /** Pose events held now, until their instant is published and the window has passed them. */
  held: number;
}

export interface TrackerService {
  start(): Promise<void>;
  /**
   * Stops taking poses and leaves the group. The poses of instants not yet published stay
   * uncommitted: the next owner takes them from there. Call flush() first at the end of a replay.
   */
  stop(): Promise<void>;
  ingestPoses(message: CameraPosesDetected): Promise<void>;
  /** Fuses and publishes every instant held, however recent (end of a replay). */
  flush(): Promise<void>;
  stats(): TrackerServiceStats;
}

interface PendingInstant {
  ts: number;
  byCamera: Map<string, CameraPosesDetected>;
  /** Cameras that passed over their frame of this instant (no view, but nothing more to wait for). */
  passed: Set<string>;
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
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const idleMs = deps.idleMs ?? 2000;
  const lagMs = deps.lagMs ?? 1000;
  const windowMs = deps.windowMs ?? 3000;
  const maxPending = deps.maxPendingInstants ?? MAX_PENDING_INSTANTS;
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
  const stats = { poses: 0, instants: 0, published: 0, late: 0, redelivered: 0, tracks: 0, silentCameras: 0, publishFailures: 0 };
  let fusedUpTo = -Infinity;
  /** The newest instant published (store time). */
  let publishedUpTo = -Infinity;
  /** Per camera: the store time of its latest poses, and when (service clock) they came. */
  const latest = new Map<string, { ts: number; heardAt: number }>();
  /** Cameras taken for silent, until they are heard again. */
  const silent = new Set<string>();
  /** Camera health reports not yet published, oldest first. */
  const reports: DeviceHealthReported[] = [];
  /** Pose events held, with their instant's time. */
  let held: Array<{ ts: number; release: Release }> = [];
  const startedAt = clock.now();
  /** Store time every camera still reporting has reached (+Infinity when none is). */
  const watermark = () => {
    const now = clock.now();
    let mark = Infinity;
    for (const cameraId of index.cameras.keys()) {
      const heard = latest.get(cameraId);
      if (silent.has(cameraId) || now - (heard?.heardAt ?? startedAt) > idleMs) continue;
      mark = Math.min(mark, heard?.ts ?? -Infinity);
    }
    return mark;
  };
  let subscription: Subscription | undefined;

  const fuse = (instant: PendingInstant) => {
    // Only passed-over frames at this instant: nobody was looked for, so it is no instant of the store.
    if (instant.byCamera.size === 0) {
      fusedUpTo = instant.ts;
      return;
    }
    const entries = [...instant.byCamera.entries()].sort(([a], [b]) => a.localeCompare(b));
    const views = entries.map(([cameraId, message]) => ({ camera: index.cameras.get(cameraId)!, poses: message.poses }));
    fused.push({ ts: instant.ts, cameraIds: entries.map(([cameraId]) => cameraId), people: fuseViews(views, fusion) });
    fusedUpTo = instant.ts;
    stats.instants++;
  };

  /**
   * Too many instants wait: the cameras that hold the oldest one back are taken for silent (reported
   * once, until they are heard again) and it is fused without them.
   */
  const giveUpOnSilentCameras = () => {
    while (pending.length > maxPending) {
      const oldest = pending[0];
      for (const cameraId of index.cameras.keys()) {
        if (oldest.byCamera.has(cameraId) || oldest.passed.has(cameraId) || silent.has(cameraId) || (latest.get(cameraId)?.ts ?? -Infinity) > oldest.ts + toleranceMs) continue;
        silent.add(cameraId);
        stats.silentCameras++;
        const heard = latest.get(cameraId)?.ts;
        const detail = `camera ${cameraId} sent no poses ${heard === undefined ? 'at all' : `after ${heard}`}; ${pending.length} instants waited for it and go on without it`;
        logger.warn('camera silent: instants go on without it', { cameraId, lastPosesTs: heard ?? null, pending: pending.length });
        reports.push({
          schemaVersion: SCHEMA_VERSION,
          eventId: `dh-${cameraId}-${oldest.ts}-offline`,
          storeId: index.store.id,
          ts: oldest.ts,
          deviceId: cameraId,
          deviceKind: 'camera',
          health: 'offline',
          detail,
        });
      }
      fuse(pending.shift()!);
    }
  };

  /**
   * Publishes every fused instant at or before `until`, each as a tracking run over its window (from
   * windowMs before it to the newest instant) settles it. An instant counts as published only once
   * the bus has it: a publish that fails throws, and the next call publishes the same instant again.
   */
  const publishUpTo = async (until: number) => {
    while (reports.length > 0) {
      await publishOrSay('device.health-reported', reports[0]);
      reports.shift();
    }
    for (;;) {
      const next = fused.findIndex((f) => !f.ids);
      if (next < 0 || fused[next].ts > until) return;
      const from = fused.findIndex((f) => f.ts >= fused[next].ts - windowMs);
      const window = fused.slice(from);
      const run = trackPeople(window, tracker, shelves, doorways);
      // Each run's track takes the id its people already published have (most of them; longer tracks
      // choose first); a track of the instant being published with no such id gets a new one, named
      // after that instant and the person's place in it: a run repeated after a failed publish or a
      // restart names it the same way.
      const w = next - from;
      const instant = window[w];
      const ids = new Map<number, string>();
      const taken = new Set<string>();
      /** Track ids this instant hands out for the first time. */
      let newIds = 0;
      const firstPoints = new Map<number, number>();
      for (const track of run.tracks) for (const point of track.points) if (point.instant === w) firstPoints.set(track.id, point.person);
      for (const track of [...run.tracks].sort((a, b) => b.points.length - a.points.length)) {
        const votes = new Map<string, number>();
        for (const point of track.points) {
          const id = window[point.instant].ids?.[point.person];
          if (id && !taken.has(id)) votes.set(id, (votes.get(id) ?? 0) + 1);
        }
        const [best] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [];
        const person = firstPoints.get(track.id);
        const id = best ?? (person !== undefined ? `track-${instant.ts}-${person}` : undefined);
        if (!id) continue;
        if (!best) newIds++;
        taken.add(id);
        ids.set(track.id, id);
      }
      // Publish the instant this run was for, with each of its people on their track.
      const settled = run.instants[w].people;
      const trackOf = new Map<number, string>();
      for (const track of run.tracks) for (const point of track.points) if (point.instant === w) trackOf.set(point.person, ids.get(track.id)!);
      const trackIds = settled.map((_, p) => trackOf.get(p) ?? null);
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
      await publishOrSay('tracking.people-tracked', message);
      // Marked only now: a publish that failed leaves the instant to be published again.
      instant.ids = trackIds;
      stats.tracks += newIds;
      stats.published++;
      publishedUpTo = instant.ts;
      // Later runs look back windowMs from the instant they settle; older instants are done with.
      while (fused.length && fused[0].ts < instant.ts - windowMs) fused.shift();
    }
  };

  const publishOrSay = async (topic: 'tracking.people-tracked' | 'device.health-reported', message: PeopleTracked | DeviceHealthReported) => {
    try {
      await bus.publish(topic, message as never);
    } catch (error) {
      stats.publishFailures++;
      logger.error('tracker could not publish; the poses behind it stay uncommitted and come again', {
        topic,
        eventId: message.eventId,
        error: (error as Error)?.message ?? String(error),
      });
      throw error;
    }
  };

  /** Whether the poses are from a camera of this tracker's store: the only ones it takes (and holds). */
  const fromOurCamera = (message: CameraPosesDetected) => message.storeId === index.store.id && index.cameras.has(message.cameraId);

  /** Takes one camera's poses into the instants waiting (poses taken before are counted and left). */
  const take = (message: CameraPosesDetected): void => {
    if (!fromOurCamera(message))
      throw new WalkoutError(
        'MESSAGE_INVALID',
        `poses ${message.eventId} are from camera ${message.cameraId} of store ${message.storeId}; this tracker follows the cameras of ${index.store.id}`,
      );
    if (!seen.add(message.eventId)) {
      stats.redelivered++;
      return;
    }
    stats.poses++;
    if (silent.delete(message.cameraId)) logger.info('camera heard again', { cameraId: message.cameraId });
    latest.set(message.cameraId, { ts: Math.max(message.ts, latest.get(message.cameraId)?.ts ?? -Infinity), heardAt: clock.now() });
    if (message.ts <= fusedUpTo) {
      if (!message.passedOver) stats.late++;
      return;
    }
    const reported = (p: PendingInstant) => p.byCamera.has(message.cameraId) || p.passed.has(message.cameraId);
    let instant = pending.find((p) => Math.abs(p.ts - message.ts) <= toleranceMs && !reported(p));
    if (!instant) {
      instant = { ts: message.ts, byCamera: new Map(), passed: new Set() };
      pending.push(instant);
      pending.sort((a, b) => a.ts - b.ts);
    }
    // A frame passed over (a shelf camera read on demand) is no view: the camera only has nothing more to say of the instant.
    if (message.passedOver) instant.passed.add(message.cameraId);
    else instant.byCamera.set(message.cameraId, message);
  };

  const ingestPoses = async (message: CameraPosesDetected) => {
    take(message);
    // Fuse in time order: an instant every camera reported, or one every camera still reporting is past.
    const mark = watermark();
    while (pending.length && (pending[0].byCamera.size + pending[0].passed.size === cameraCount || pending[0].ts + toleranceMs < mark)) fuse(pending.shift()!);
    giveUpOnSilentCameras();
    // A redelivery too: what failed to publish the first time is published now.
    await publishUpTo(fusedUpTo - lagMs);
  };

  /** Lets go of the poses no unpublished instant, and no tracking run still to come, can need. */
  const releaseSettled = () => {
    const unpublished = fused.find((f) => !f.ids)?.ts ?? pending[0]?.ts ?? Infinity;
    const needFrom = Math.min(unpublished, publishedUpTo === -Infinity ? -Infinity : publishedUpTo + toleranceMs) - windowMs - toleranceMs;
    if (!held.some((entry) => entry.ts < needFrom)) return;
    const keep: typeof held = [];
    for (const entry of held) {
      if (entry.ts < needFrom) entry.release();
      else keep.push(entry);
    }
    held = keep;
  };

  const handle = async (delivery: Delivery<typeof topics, 'camera.poses-detected'>) => {
    const { message } = delivery;
    if (fromOurCamera(message)) held.push({ ts: message.ts, release: delivery.hold() });
    await ingestPoses(message);
    releaseSettled();
  };

  const flush = async () => {
    while (pending.length) fuse(pending.shift()!);
    await publishUpTo(Infinity);
    for (const entry of held) entry.release();
    held = [];
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: TRACKER_GROUP,
        topics: ['camera.poses-detected'],
        handle: (delivery) => handle(delivery as Delivery<typeof topics, 'camera.poses-detected'>),
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
    },
    ingestPoses,
    flush,
    stats: () => ({ ...stats, pending: pending.length, held: held.length }),
  };
}
