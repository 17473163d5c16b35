import type { SkeletonTruth } from '../contracts/index.ts';
import type { Simulation } from '../sim/store.sim.ts';

/**
 * A simulation's people in 3D at every tick of its fastest camera, as a recording's skeleton truth
 * holds them: what libs/replay/people-truth.source.ts (`truthPeopleFrom`) turns into people tracked
 * when visits are tested or measured on a simulation without writing a recording.
 */
export function simulatedSkeletons(sim: Simulation): SkeletonTruth[] {
  const fps = Math.max(...sim.index.store.cameras.map((camera) => camera.fps));
  const stepMs = 1000 / fps;
  const ticks = Math.floor((sim.endMs - sim.startMs) / stepMs) + 1;
  const skeletons: SkeletonTruth[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const ts = sim.startMs + Math.round(tick * stepMs);
    skeletons.push({
      ts,
      people: sim.people
        .filter((person) => person.timeline.present(ts))
        .map((person) => ({ personId: person.id, ...(person.visitId ? { visitId: person.visitId } : {}), role: person.role, keypoints: person.timeline.keypointsAt(ts) })),
    });
  }
  return skeletons;
}
