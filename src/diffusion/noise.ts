// Seeded Gaussian noise for the samplers. Counter-based (Philox4x32-10, Salmon et al. 2011, the generator of
// cuRAND and JAX) rather than a sequential stream, so that the noise of sample i at step s is a pure function of
// (seed, i, s): results do not depend on the batch size or on where a resumed run restarts, and two samples can
// never share a stretch of one stream. Uniforms become normals by Box–Muller.

import { usageError } from '../errors.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact: every partial product fits a double). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block: counter (4 words) and key (2 words) in, 4 random uint32 out (into `out`). */
export function philox4x32(ctr: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  let c0 = ctr[0]! >>> 0;
  let c1 = ctr[1]! >>> 0;
  let c2 = ctr[2]! >>> 0;
  let c3 = ctr[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** What a sampler draws noise for: the initial x_T, or the fresh noise of sampling step s. */
export type NoiseSlot = { kind: 'initial' } | { kind: 'step'; step: number };

/** Fills `out` (count samples of `size` values) with N(0, 1) noise for samples first .. first+count-1. */
export type NoiseSource = (slot: NoiseSlot, first: number, count: number, size: number, out: Float32Array) => void;

export function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw usageError(`--seed must be a non-negative integer, got ${seed}`);
}

/**
 * Fills out[offset .. offset+n) with the normals of stream (seed, sample, slot). Counter words: block index,
 * slot (0: initial noise, s + 1: step s), sample index, and a domain tag; key: the seed's low and high words.
 */
export function fillNormal(
  seed: number,
  sample: number,
  slot: number,
  out: Float32Array,
  offset: number,
  n: number,
): void {
  const key = [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
  const ctr = [0, slot >>> 0, sample >>> 0, 0x51ab1e];
  const block = new Uint32Array(4);
  for (let b = 0, i = 0; i < n; b++) {
    ctr[0] = b;
    philox4x32(ctr, key, block);
    for (let k = 0; k < 4 && i < n; k += 2) {
      // u1 in (0, 1] keeps the logarithm finite; u2 in [0, 1).
      const u1 = (block[k]! + 1) * INV_2_32;
      const u2 = block[k + 1]! * INV_2_32;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[offset + i++] = r * Math.cos(TWO_PI * u2);
      if (i < n) out[offset + i++] = r * Math.sin(TWO_PI * u2);
    }
  }
}

/** The default noise: per-sample Philox streams under one seed. */
export function seededNoise(seed: number): NoiseSource {
  checkSeed(seed);
  return (slot, first, count, size, out) => {
    const s = slot.kind === 'initial' ? 0 : slot.step + 1;
    for (let k = 0; k < count; k++) fillNormal(seed, first + k, s, out, k * size, size);
  };
}
