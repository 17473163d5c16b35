import { KP, type PeopleTracked } from '../contracts/index.ts';
import { distance3 } from '../geometry/linalg.ts';
import type { Recording } from '../recording/index.ts';
import { matchTruth, truthSkeletonsAt, WRIST_RADIUS_3D_M } from './multiview.eval.ts';

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

export async function scoreTracks(recording: Recording, messages: readonly PeopleTracked[]): Promise<TracksScore> {
  const truthAt = await truthSkeletonsAt(recording, new Set(messages.map((m) => m.ts)));
  const score: TracksScore = { instants: messages.length, people: { found: 0, total: 0 }, wrists: { found: 0, total: 0 }, tracks: 0, purity: null, continuity: null };
  const personsOfTrack = new Map<string, Map<string, number>>();
  const tracksOfPerson = new Map<string, Map<string, number>>();
  for (const message of messages) {
    const truth = truthAt.get(message.ts) ?? [];
    score.people.total += truth.length;
    for (const [t, p] of matchTruth(truth, message.people.map((person) => person.keypoints))) {
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
