/**
 * One step of a k-way merge by store clock: of several streams' current heads, the index of the one
 * with the earliest `ts` (the first of equals, so the merge is stable), or -1 when every stream has
 * ended. The recording's shelf streams (libs/shelf) and the simulator's (libs/sim) merge with it.
 */
export function earliestHead(heads: ReadonlyArray<IteratorResult<{ readonly ts: number }, unknown>>): number {
  let best = -1;
  let bestTs = Infinity;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i];
    if (!head.done && (best < 0 || head.value.ts < bestTs)) {
      best = i;
      bestTs = head.value.ts;
    }
  }
  return best;
}
