// Summaries of repeated timings: medians with their spread, and ratios of medians measured in the same run.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** first and third quartiles (linear interpolation, as numpy's default) */
  q1: number;
  q3: number;
}

function quantileSorted(s: readonly number[], p: number): number {
  if (s.length === 0) return NaN;
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantileSorted(s, 0.5),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    q1: quantileSorted(s, 0.25),
    q3: quantileSorted(s, 0.75),
  };
}

/** Median of per-round ratios a[i] / b[i] (paired samples from interleaved rounds) with their min and max. */
export function pairedRatio(a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length);
  return summarize(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}

/** Round to `digits` significant digits, for JSON and tables that people read. */
export function sig(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

export function roundSummary(s: Summary, digits = 4): Summary {
  return {
    n: s.n,
    median: sig(s.median, digits),
    min: sig(s.min, digits),
    max: sig(s.max, digits),
    q1: sig(s.q1, digits),
    q3: sig(s.q3, digits),
  };
}
