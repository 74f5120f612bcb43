/**
 * A small seeded random number generator (mulberry32), so that a lab or a test replays the same losses
 * and jitter for the same seed.
 */

/** Returns a generator of numbers in [0, 1) that depends only on `seed` (an integer). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of one receiving session's generator: the rule's seed mixed with the session's display name
 * (FNV-1a), so each member of a room draws its own sequence and the same names replay the same one.
 */
export function sessionSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
