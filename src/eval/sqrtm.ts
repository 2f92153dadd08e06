// Symmetric eigendecomposition and the square root of symmetric PSD matrices, in float64, for FID.
// Householder reduction to tridiagonal form, then the implicit QL algorithm (EISPACK tred2/tql2, in the form of
// the public-domain JAMA library). FID's Tr((Σ1 Σ2)^½) is taken as Σ √λ over the eigenvalues of the symmetric PSD
// matrix Σ1^½ Σ2 Σ1^½, which has the same eigenvalues as Σ1 Σ2; unlike a Newton iteration or a Schur sqrtm of the
// non-symmetric product, this cannot produce complex parts and stays exact for singular covariances.
// Matrices are dense row-major Float64Array n×n. Pure computation.

import { dataError } from '../errors.js';

export interface SymmetricEigen {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** row k is the unit eigenvector of values[k] (absent when not asked for) */
  vectors?: Float64Array;
}

/** Householder tridiagonalization. On return V holds Q (row-major), d the diagonal, e the sub-diagonal in e[1..]. */
function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k] = e[k]! + V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j] = V[k * n + j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j] = V[k * n + j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e). W holds Qᵀ (eigenvector rows), so each rotation touches two rows. */
function tql2(W: Float64Array | undefined, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw dataError('eigendecomposition did not converge (is the matrix finite?)');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (W !== undefined) {
            const a = i * n;
            const b = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = W[b + k]!;
              W[b + k] = s * W[a + k]! + c * hk;
              W[a + k] = c * W[a + k]! - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

function checkSquare(a: Float64Array, n: number): void {
  if (a.length !== n * n) throw dataError(`expected a ${n}x${n} matrix, got ${a.length} values`);
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i]!)) throw dataError(`matrix entry ${i} is ${a[i]}`, 'the features hold NaN or infinity');
}

/** Eigenvalues (ascending) and optionally eigenvectors of the symmetric matrix `a` (its lower triangle is used). */
export function symmetricEigen(a: Float64Array, n: number, vectors = true): SymmetricEigen {
  checkSquare(a, n);
  if (n === 0)
    return vectors ? { values: new Float64Array(0), vectors: new Float64Array(0) } : { values: new Float64Array(0) };
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e, n);
  const W = vectors ? transpose(V, n) : undefined;
  tql2(W, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x]! - d[y]!);
  const values = Float64Array.from(order, (i) => d[i]!);
  if (W === undefined) return { values };
  const out = new Float64Array(n * n);
  for (const [k, i] of order.entries()) out.set(W.subarray(i * n, (i + 1) * n), k * n);
  return { values, vectors: out };
}

/** C = A B for n×n row-major matrices. */
export function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aik * b[bk + j]!;
    }
  }
  return c;
}

/** (M + Mᵀ) / 2: removes the asymmetry rounding leaves in products that are symmetric in exact arithmetic. */
export function symmetrize(m: Float64Array, n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (m[i * n + j]! + m[j * n + i]!) / 2;
  return s;
}

/** The PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix (negative rounding-noise eigenvalues → 0). */
export function sqrtPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n, true);
  const out = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, values[k]!));
    if (s === 0) continue;
    for (let j = 0; j < n; j++) row[j] = vectors![k * n + j]!;
    for (let i = 0; i < n; i++) {
      const vi = s * row[i]!;
      if (vi === 0) continue;
      const oi = i * n;
      for (let j = 0; j < n; j++) out[oi + j] = out[oi + j]! + vi * row[j]!;
    }
  }
  return out;
}

/** Tr((A B)^½) for symmetric PSD A and B: Σ √λ of A^½ B A^½. */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number): number {
  const ra = sqrtPsd(a, n);
  const m = symmetrize(matmul(matmul(ra, b, n), ra, n), n);
  const { values } = symmetricEigen(m, n, false);
  let t = 0;
  for (const v of values) t += Math.sqrt(Math.max(0, v));
  return t;
}
