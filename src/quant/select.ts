// In-place selection of order statistics in a Float32Array, so quantiles cost O(n) instead of a full sort.
// Floyd–Rivest selection (Floyd & Rivest, CACM 1975): a small random-free sample around the target rank picks a
// pivot pair that usually confines the next pass to a sliver of the array. A guard on the number of partition
// rounds falls back to sorting the remaining sub-range (introselect style), bounding the worst case at
// O(n log n). Input must not contain NaN (callers check). Imports nothing.

const SAMPLE_THRESHOLD = 600;

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * Rearranges a[left..right] so that a[k] holds the value it would have if that range were sorted, everything
 * before it is ≤ a[k] and everything after it is ≥ a[k].
 */
export function selectInPlace(a: Float32Array, k: number, left = 0, right = a.length - 1): void {
  if (k < left || k > right) throw new RangeError(`rank ${k} outside [${left}, ${right}]`);
  let budget = 4 * Math.ceil(Math.log2(right - left + 2)) + 8;
  while (right > left) {
    if (budget-- <= 0) {
      a.subarray(left, right + 1).sort();
      return;
    }
    const n = right - left + 1;
    if (n > SAMPLE_THRESHOLD) {
      // Recursively select within a sample window whose bounds bracket rank k with high probability.
      const i = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i < n / 2 ? -1 : 1);
      const lo = Math.max(left, Math.floor(k - (i * s) / n + sd));
      const hi = Math.min(right, Math.floor(k + ((n - i) * s) / n + sd));
      selectInPlace(a, k, lo, hi);
    }
    // Hoare-style partition around t = a[k], with sentinels at both ends so the scans need no bound checks.
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    // a[j] is now t in its final place; keep the side that holds rank k.
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/**
 * Places every rank of `ranks` (ascending, distinct) at its sorted position with one shared pass structure:
 * selecting the middle rank splits the array, and the ranks on each side are selected only within their side.
 */
export function selectManyInPlace(a: Float32Array, ranks: readonly number[]): void {
  const go = (left: number, right: number, from: number, to: number): void => {
    if (from > to || left > right) return;
    const mid = (from + to) >> 1;
    const k = ranks[mid]!;
    selectInPlace(a, k, left, right);
    go(left, k - 1, from, mid - 1);
    go(k + 1, right, mid + 1, to);
  };
  go(0, a.length - 1, 0, ranks.length - 1);
}
