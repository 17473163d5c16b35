import type { Vec2, Vec3 } from '../contracts/index.ts';
import { skeleton, smooth, type BodyPose, type BodyShape } from './body.model.ts';

/**
 * What one person does over time, as segments (walk, turn, stand, reach) that give a body pose at
 * any instant. Planning builds these; rendering and ground truth sample them.
 */

export type Hand = 'left' | 'right';

export type Segment =
  | { kind: 'walk'; t0: number; t1: number; path: Vec2[]; along: number[]; startPhase: number; strideM: number }
  | { kind: 'turn'; t0: number; t1: number; at: Vec2; from: number; to: number }
  | { kind: 'stand'; t0: number; t1: number; at: Vec2; heading: number }
  | {
      kind: 'reach';
      t0: number;
      t1: number;
      at: Vec2;
      heading: number;
      hand: Hand;
      target: Vec3;
      /** The hand arrives at `holdFrom` and starts back at `holdTo`. */
      holdFrom: number;
      holdTo: number;
      crouch: number;
      lean: number;
    };

const WALK_RAMP_S = 0.4; // time to reach full stride or come to a stop
const LOOK_AHEAD_M = 0.35; // heading follows the path this far ahead, so corners turn smoothly
const POSTURE_RAMP_S = 0.5;

export class PersonTimeline {
  readonly segments: Segment[] = [];
  /** Times (ms) at which the number of carried items changes, and the new count. */
  readonly carried: Array<{ t: number; count: number }> = [];

  constructor(
    readonly shape: BodyShape,
    readonly enterMs: number,
  ) {}

  get endMs(): number {
    return this.segments.at(-1)?.t1 ?? this.enterMs;
  }

  get exitMs(): number {
    return this.endMs;
  }

  add(segment: Segment): void {
    const last = this.segments.at(-1);
    if (last && segment.t0 < last.t1 - 1e-6) throw new Error(`segments overlap at ${segment.t0} ms`);
    this.segments.push(segment);
  }

  present(t: number): boolean {
    return t >= this.enterMs && t <= this.endMs;
  }

  /** Whether the person is in the store and not walking at t (standing, turning, reaching). */
  stillAt(t: number): boolean {
    return this.present(t) && this.segmentAt(t).kind !== 'walk';
  }

  private segmentAt(t: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].t0 <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo];
  }

  /** Where the person stands at time t (floor point) and which way they face. */
  placeAt(t: number): { at: Vec2; heading: number } {
    // Planning asks where people are millions of times and rarely which way they face: the floor
    // point is worked out alone (as poseAt does), the heading only when asked for.
    const timeline = this;
    return {
      at: this.positionAt(t),
      get heading() {
        return timeline.poseAt(t).heading;
      },
    };
  }

  /** The floor point at t, exactly as poseAt places the body. */
  positionAt(t: number): Vec2 {
    const s = this.segmentAt(t);
    if (s.kind !== 'walk') return s.at;
    const total = s.along.at(-1)!;
    const duration = s.t1 - s.t0;
    const u = duration > 0 ? Math.min(1, Math.max(0, (t - s.t0) / duration)) : 1;
    return pointAlong(s.path, s.along, total * rampedProgress(u, duration / 1000));
  }

  carryingAt(t: number): number {
    let count = 0;
    for (const c of this.carried) if (c.t <= t) count = c.count;
    return count;
  }

  poseAt(t: number): BodyPose {
    const s = this.segmentAt(t);
    const base = { gaitPhase: 0, walk: 0, crouch: 0, lean: 0 };
    const carrying = this.carryingAt(t) > 0;
    switch (s.kind) {
      case 'walk': {
        const total = s.along.at(-1)!;
        const duration = s.t1 - s.t0;
        const u = duration > 0 ? Math.min(1, Math.max(0, (t - s.t0) / duration)) : 1;
        // Speed ramps at both ends; distance covered follows the ramped speed profile.
        const distance = total * rampedProgress(u, duration / 1000);
        const at = pointAlong(s.path, s.along, distance);
        const ahead = pointAlong(s.path, s.along, Math.min(total, distance + LOOK_AHEAD_M));
        const behind = pointAlong(s.path, s.along, Math.max(0, distance - 0.05));
        const dir = total - distance > 0.05 ? [ahead[0] - at[0], ahead[1] - at[1]] : [at[0] - behind[0], at[1] - behind[1]];
        const heading = Math.hypot(dir[0], dir[1]) > 1e-6 ? Math.atan2(dir[1], dir[0]) : 0;
        const ramp = Math.min(1, (t - s.t0) / 1000 / WALK_RAMP_S, (s.t1 - t) / 1000 / WALK_RAMP_S);
        return {
          ...base,
          x: at[0],
          y: at[1],
          heading,
          walk: Math.max(0, ramp),
          gaitPhase: s.startPhase + (distance / s.strideM) * 2 * Math.PI,
          rightCarrying: carrying,
        };
      }
      case 'turn': {
        const u = smooth((t - s.t0) / Math.max(1, s.t1 - s.t0));
        let delta = s.to - s.from;
        delta = Math.atan2(Math.sin(delta), Math.cos(delta));
        return { ...base, x: s.at[0], y: s.at[1], heading: s.from + delta * u, rightCarrying: carrying };
      }
      case 'stand':
        return { ...base, x: s.at[0], y: s.at[1], heading: s.heading, rightCarrying: carrying };
      case 'reach': {
        const amount =
          t < s.holdFrom ? (t - s.t0) / Math.max(1, s.holdFrom - s.t0) : t <= s.holdTo ? 1 : 1 - (t - s.holdTo) / Math.max(1, s.t1 - s.holdTo);
        const posture = Math.min(1, (t - s.t0) / 1000 / POSTURE_RAMP_S, (s.t1 - t) / 1000 / POSTURE_RAMP_S);
        const reach = { target: s.target, amount: Math.min(1, Math.max(0, amount)) };
        return {
          ...base,
          x: s.at[0],
          y: s.at[1],
          heading: s.heading,
          crouch: s.crouch * smooth(posture),
          lean: s.lean * smooth(posture),
          ...(s.hand === 'left' ? { leftHand: reach, rightCarrying: carrying } : { rightHand: reach, leftCarrying: carrying }),
        };
      }
    }
  }

  keypointsAt(t: number): Vec3[] {
    return skeleton(this.shape, this.poseAt(t));
  }
}

/** Fraction of the distance covered at fraction u of the time, with speed ramps at both ends. */
function rampedProgress(u: number, durationS: number): number {
  const r = Math.min(0.45, WALK_RAMP_S / Math.max(durationS, 1e-6));
  // Trapezoidal speed: accelerate over r, cruise, decelerate over r. Area normalised to 1.
  const area = 1 - r;
  if (u < r) return (u * u) / (2 * r) / area;
  if (u > 1 - r) return (1 - ((1 - u) * (1 - u)) / (2 * r) / area);
  return (u - r / 2) / area;
}

export function cumulativeLengths(path: Vec2[]): number[] {
  const along = [0];
  for (let i = 1; i < path.length; i++) along.push(along[i - 1] + Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]));
  return along;
}

function pointAlong(path: Vec2[], along: number[], distance: number): Vec2 {
  if (distance <= 0) return path[0];
  for (let i = 1; i < path.length; i++)
    if (along[i] >= distance) {
      const seg = along[i] - along[i - 1];
      const u = seg > 0 ? (distance - along[i - 1]) / seg : 0;
      return [path[i - 1][0] + (path[i][0] - path[i - 1][0]) * u, path[i - 1][1] + (path[i][1] - path[i - 1][1]) * u];
    }
  return path[path.length - 1];
}
