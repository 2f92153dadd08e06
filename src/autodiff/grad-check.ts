// Checks a gradient graph against central differences of the forward graph, both run by ORT: the check every
// gradient rule passes (DESIGN §7), and a tool for checking a new block end to end. Imports the runtime.

import type { Graph, Model } from '../onnx/ir.js';
import { Session } from '../runtime/session.js';
import type { HostTensor } from '../util/host-tensor.js';
import { mulberry32 } from '../data/calib.js';
import { usageError } from '../errors.js';
import { buildGradientGraph } from './gradient-graph.js';
import { prepareForward, type GradientOptions } from './prepare.js';

export interface GradCheckOptions {
  /** step of the central difference (default 1e-6 for float64 parameters, 1e-2 for float32) */
  eps?: number;
  /** coordinates checked per wrt value; more are sampled with `seed` (default 24) */
  maxCoords?: number;
  /**
   * Of those, how many are the coordinates with the largest |analytic gradient| (default 0). Float32 checks need
   * them: a central difference of a float32 loss has an absolute noise of about ulp(loss) / eps, which swamps
   * the coordinates whose gradient is tiny.
   */
  largest?: number;
  seed?: number;
  threads?: number;
  /**
   * Relative errors divide by max(|analytic|, |numeric|, floor · max |analytic| of that wrt value), so that
   * coordinates with a near-zero gradient are judged on the gradient's scale (default 1e-3).
   */
  floor?: number;
}

export interface GradCheckEntry {
  wrt: string;
  checked: number;
  /** the largest |analytic gradient| of the value (0 flags a check that proves nothing) */
  largest: number;
  maxAbsError: number;
  maxRelError: number;
  worst: { index: number; analytic: number; numeric: number };
}

function pick(a: Float32Array | Float64Array, max: number, largest: number, seed: number): number[] {
  const n = a.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  if (largest > 0) {
    const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => Math.abs(a[j]!) - Math.abs(a[i]!));
    for (const i of order.slice(0, Math.min(largest, max))) set.add(i);
  }
  const r = mulberry32(seed);
  while (set.size < max) set.add(Math.floor(r() * n));
  return [...set].sort((x, y) => x - y);
}

const scalar = (t: HostTensor | undefined) => Number((t?.data as Float64Array | undefined)?.[0]);

/** Analytic gradients (one run of the gradient graph) against central differences on sampled coordinates. */
export async function checkGradients(
  source: Model | Graph,
  opts: GradientOptions,
  feeds: Readonly<Record<string, HostTensor>>,
  check: GradCheckOptions = {},
): Promise<GradCheckEntry[]> {
  const grad = buildGradientGraph(source, opts);
  // Central differences of a float64 loss: the forward stays in the model's precision, only the loss terms widen.
  const forward = prepareForward(source, typeof opts.loss === 'string' ? opts : { ...opts, lossPrecision: 'float64' });
  const base: Record<string, HostTensor> = { ...grad.parameters, ...feeds };
  const only = (s: Session, f: Record<string, HostTensor>) =>
    Object.fromEntries(s.inputs.map((i) => [i.name, f[i.name]!]));
  const [gs, fs] = await Promise.all([
    Session.create(grad.model, { threads: check.threads ?? 1 }),
    Session.create(forward.model, { threads: check.threads ?? 1 }),
  ]);
  try {
    const analytic = await gs.run(only(gs, base));
    const entries: GradCheckEntry[] = [];
    for (const [w, gname] of Object.entries(grad.gradients)) {
      const value = base[w];
      if (value === undefined)
        throw usageError(`checkGradients: ${w} is not an input or parameter, so it cannot be perturbed`);
      const data = value.data.slice() as Float32Array | Float64Array;
      const feed = { ...base, [w]: { ...value, data } };
      const a = analytic[gname]!.data as Float32Array | Float64Array;
      const eps = check.eps ?? (value.dtype === 'float64' ? 1e-6 : 1e-2);
      let largest = 0;
      for (const v of a) largest = Math.max(largest, Math.abs(v));
      const scale = largest * (check.floor ?? 1e-3);
      const entry: GradCheckEntry = {
        wrt: w,
        checked: 0,
        largest,
        maxAbsError: 0,
        maxRelError: 0,
        worst: { index: -1, analytic: 0, numeric: 0 },
      };
      for (const j of pick(a, check.maxCoords ?? 24, check.largest ?? 0, check.seed ?? 1)) {
        const orig = data[j]!;
        data[j] = orig + eps;
        const hi = data[j]!;
        const up = scalar((await fs.run(only(fs, feed)))[forward.loss]);
        data[j] = orig - eps;
        const lo = data[j]!;
        const down = scalar((await fs.run(only(fs, feed)))[forward.loss]);
        data[j] = orig;
        const numeric = (up - down) / (hi - lo);
        const abs = Math.abs(a[j]! - numeric);
        const rel = abs / Math.max(Math.abs(a[j]!), Math.abs(numeric), scale, Number.MIN_VALUE);
        entry.checked++;
        entry.maxAbsError = Math.max(entry.maxAbsError, abs);
        if (rel >= entry.maxRelError) {
          entry.maxRelError = rel;
          entry.worst = { index: j, analytic: a[j]!, numeric };
        }
      }
      entries.push(entry);
    }
    return entries;
  } finally {
    await Promise.all([gs.release(), fs.release()]);
  }
}
