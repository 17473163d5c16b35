import { KP, type PeopleTracked, type Vec3 } from '../contracts/index.ts';
import { distance3 } from '../geometry/linalg.ts';
import type { Recording } from '../recording/index.ts';
import { WRIST_RADIUS_3D_M } from './multiview.eval.ts';

/**
 * The tracker's output (`tracking.people-tracked`) against the recording's 3D truth: at each instant
 * published, is every person there found, are their wrists where the truth has them, and does each
 * track stay one person.
 */
export interface TracksScore {
  instants: number;
  /** True people present at the instants published, and how many of them a tracked person was. */
  people: { found: number; total: number };
  /** Wrists of the people found, and how many the tracker put within WRIST_RADIUS_3D_M (right side). */
  wrists: { found: number; total: number };
  tracks: number;
  /**
   * Of the tracked people that are a true person, the share whose track is mostly that person:
   * 1 when no track ever jumps from one person to another.
   */
  purity: number | null;
  /**
   * Of the same, the share on the track each true person is most often on: 1 when nobody's track
   * breaks into pieces.
   */
  continuity: number | null;
}

/** A tracked person is a true person when their keypoints are this close (median), as in multiview.eval.ts. */
const SAME_PERSON_M = 0.4;

export async function scoreTracks(recording: Recording, messages: readonly PeopleTracked[]): Promise<TracksScore> {
  const wanted = new Set(messages.map((m) => m.ts));
  const truthAt = new Map<number, Array<{ personId: string; keypoints: Vec3[] }>>();
  for await (const line of recording.truthSkeletons()) if (wanted.has(line.ts)) truthAt.set(line.ts, line.people);
  const score: TracksScore = { instants: messages.length, people: { found: 0, total: 0 }, wrists: { found: 0, total: 0 }, tracks: 0, purity: null, continuity: null };
  const personsOfTrack = new Map<string, Map<string, number>>();
  const tracksOfPerson = new Map<string, Map<string, number>>();
  for (const message of messages) {
    const truth = truthAt.get(message.ts) ?? [];
    score.people.total += truth.length;
    // Each true person to the nearest tracked person still free, nearest pairs first.
    const pairs: Array<{ t: number; p: number; d: number }> = [];
    truth.forEach((t, ti) =>
      message.people.forEach((person, pi) => {
        const d = medianOf(person.keypoints.flatMap((k, i) => (k ? [distance3(k, t.keypoints[i])] : [])));
        if (d < SAME_PERSON_M) pairs.push({ t: ti, p: pi, d });
      }),
    );
    pairs.sort((a, b) => a.d - b.d);
    const usedT = new Set<number>();
    const usedP = new Set<number>();
    for (const { t, p } of pairs) {
      if (usedT.has(t) || usedP.has(p)) continue;
      usedT.add(t);
      usedP.add(p);
      score.people.found++;
      const person = message.people[p];
      tally(personsOfTrack, person.trackId, truth[t].personId);
      tally(tracksOfPerson, truth[t].personId, person.trackId);
      for (const k of [KP.left_wrist, KP.right_wrist]) {
        score.wrists.total++;
        const wrist = person.keypoints[k];
        if (wrist && distance3(wrist, truth[t].keypoints[k]) <= WRIST_RADIUS_3D_M) score.wrists.found++;
      }
    }
  }
  score.tracks = new Set(messages.flatMap((m) => m.people.map((p) => p.trackId))).size;
  score.purity = mostlyOne(personsOfTrack);
  score.continuity = mostlyOne(tracksOfPerson);
  return score;
}

function tally(counts: Map<string, Map<string, number>>, a: string, b: string) {
  const inner = counts.get(a) ?? new Map<string, number>();
  inner.set(b, (inner.get(b) ?? 0) + 1);
  counts.set(a, inner);
}

/** The share of all counts that fall on each key's most frequent partner. */
function mostlyOne(counts: Map<string, Map<string, number>>): number | null {
  const each = [...counts.values()].map((inner) => [...inner.values()]);
  const total = each.flat().reduce((a, b) => a + b, 0);
  return total ? each.reduce((n, c) => n + Math.max(...c), 0) / total : null;
}

function medianOf(xs: number[]): number {
  if (!xs.length) return Infinity;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
