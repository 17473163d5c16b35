/**
 * Which partition a key lands on. It is Kafka's default rule (murmur2 of the UTF-8 key, sign bit
 * cleared, modulo the partition count), so a key maps to the same partition number in the in-process
 * bus as in Kafka (kafkajs' default partitioner and the Java client agree on it too). Per-partition
 * state then means the same thing in both modes.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes, highest first, then one more mix (the reference's fall-through switch).
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2] << 16;
    if (tail >= 2) h ^= data[whole + 1] << 8;
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}

/**
 * Keys repeat a lot (a store has tens of cameras and shelves, a visit lasts minutes), and hashing is
 * the single biggest cost of an in-process publish; remember the last few thousand answers.
 */
const CACHE_LIMIT = 4096;

export function cachedPartitioner(partitions: number): (key: string | null) => number {
  const cache = new Map<string, number>();
  let roundRobin = 0;
  return (key) => {
    // Kafka spreads keyless messages; so do we, so neither mode hides a missing key behind partition 0.
    if (key === null) return roundRobin++ % partitions;
    let partition = cache.get(key);
    if (partition === undefined) {
      partition = partitionForKey(key, partitions);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, partition);
    }
    return partition;
  };
}
