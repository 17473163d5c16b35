/**
 * A put and a pick by two shoppers at once on the same plates make one weight change: the plates
 * weigh only what the put added less what the pick took. The shelf explains the change as one item
 * (or none: too light for an item, or fitting no product), while the truth is two, one on each of
 * two carts. This reads such a change the other way: one shopper whose hand was in the lanes put
 * back units of something they hold while another, whose hand was there too, took units of
 * something the lanes hold; the readings whose net weight fits what the plates measured.
 *
 * Fusion does not decide on such a reading (nothing calibrates its probability yet): it sends the
 * change to review, with both shoppers named, instead of dismissing it or charging one of them. A
 * change that one shopper's option explains too is weighed both ways (attribution.model.ts
 * nettedShare): the option keeps the share of its confidence the weight leaves it.
 */

/** A netted reading fits when the measured change lies within this many standard deviations of it. */
export const NETTED_SIGMAS = 3;
/** Units one hand puts or takes in such a reading, at most (a grab of more is rare, and more units fit more weights by chance). */
export const NETTED_MAX_UNITS = 2;
/**
 * A change lighter than this is not read as a put and a pick at once when nothing else explains
 * it: a hand resting on the plates makes small changes all the time, and two shoppers' holdings and
 * the lanes' products give some reading within a few grams of any of them, grams.
 */
export const NETTED_MIN_GRAMS = 30;
/** A holding counts as units in hand from this many expected units (a pick in review counts by its share). */
const HELD_UNIT = 0.5;

export interface NettedHand {
  visitId: string;
  /** Units of each product the visit holds when the change began (expected units for picks in review). */
  holds: ReadonlyMap<string, number>;
}

export interface NettedReading {
  put: { visitId: string; productId: string; quantity: number };
  pick: { visitId: string; productId: string; quantity: number };
  /** What the plates would weigh for this reading, grams (the put's units less the pick's). */
  predictedGrams: number;
  /** Its standard deviation: the change's and the products' spreads for the units moved, grams. */
  sigmaGrams: number;
  /** How far the measured change lies from it, in standard deviations. */
  z: number;
}

export interface NettedChange {
  deltaGrams: number;
  sigmaGrams: number;
  /** Shoppers whose hand was in the lanes during the change (two at least for any reading). */
  hands: readonly NettedHand[];
  /** Products a hand could have taken there: those planned on the lanes and those known to lie misplaced on the plates. */
  onShelf: ReadonlySet<string>;
  product: (productId: string) => { unitWeightGrams: number; weightSpreadGrams: number } | undefined;
}

/** Every netted reading of a change that fits its weight, best fitting first. */
export function nettedReadings(change: NettedChange): NettedReading[] {
  const readings: NettedReading[] = [];
  for (const putter of change.hands)
    for (const picker of change.hands) {
      if (putter.visitId === picker.visitId) continue;
      for (const [putId, held] of putter.holds) {
        const put = change.product(putId);
        if (!put || held < HELD_UNIT) continue;
        for (let putUnits = 1; putUnits <= Math.min(NETTED_MAX_UNITS, Math.round(held)); putUnits++)
          for (const pickId of change.onShelf) {
            const pick = change.product(pickId);
            if (!pick) continue;
            for (let pickUnits = 1; pickUnits <= NETTED_MAX_UNITS; pickUnits++) {
              const predictedGrams = putUnits * put.unitWeightGrams - pickUnits * pick.unitWeightGrams;
              const sigma = Math.sqrt(change.sigmaGrams ** 2 + putUnits * put.weightSpreadGrams ** 2 + pickUnits * pick.weightSpreadGrams ** 2);
              const z = Math.abs(change.deltaGrams - predictedGrams) / sigma;
              if (z <= NETTED_SIGMAS)
                readings.push({
                  put: { visitId: putter.visitId, productId: putId, quantity: putUnits },
                  pick: { visitId: picker.visitId, productId: pickId, quantity: pickUnits },
                  predictedGrams,
                  sigmaGrams: sigma,
                  z,
                });
            }
          }
      }
    }
  return readings.sort((a, b) => a.z - b.z);
}
