// Deterministic PRNG (mulberry32): the same seed gives the same sequence on every machine.
// Plain JavaScript so that both the TypeScript tests and the plain-node benchmarks can import it.

/** @param {number} seed @returns {() => number} a generator of numbers in [0, 1) */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
