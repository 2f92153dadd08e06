// Caching what reconstruction trains on (q-diffusion.md §3.4, §4.3): for each unit, its entry tensors from an
// "input model" (the weight-quantized model for weight reconstruction, the FP model for activation step-size
// learning) and its exit tensor from the FP model, over the calibration feeds, batch by batch, probing only those
// tensors. Caches are flat Float32Arrays with dims [rows, ...], rows = samples (x windows for tensors that carry
// several rows per sample). A byte limit turns an oversized cache into one clear error instead of an out-of-memory
// crash (the reference keeps everything in CPU RAM: §9.5 reports 300 GB). Imports the runtime, not onnxruntime-node.

import type { Model } from '../../onnx/ir.js';
import { Prober, modelInputs, type Feeds, type SessionOptions } from '../../runtime/index.js';
import { dataError, limitError } from '../../errors.js';
import type { HostTensor } from '../../util/host-tensor.js';
import type { ReconstructionUnit } from './units.js';

export interface TensorCache {
  name: string;
  /** [rows, ...]: dims[0] = samples x rowsPerSample */
  dims: number[];
  rowsPerSample: number;
  data: Float32Array;
}

export interface UnitCapture {
  unit: string;
  /** entry tensors in unit.entries order, from the input model (empty when inputs were not asked for) */
  inputs: TensorCache[];
  /** the exit tensor from the target (FP) model (undefined when targets were not asked for) */
  target?: TensorCache;
}

export interface CaptureResult {
  units: UnitCapture[];
  samples: number;
  batches: number;
  /** bytes held by the caches (a tensor that several units read is cached once) */
  bytes: number;
  seconds: number;
}

export interface CaptureOptions extends SessionOptions {
  /** the most bytes the caches may hold (default 2 GiB) */
  limitBytes?: number;
  /** how many samples the feeds give: the limit is checked on the first batch and caches are allocated once */
  samples?: number;
  /** capture entries from the input model (default true) */
  inputs?: boolean;
  /** capture exits from the target model (default true; FP targets never change, so one pass can serve all units) */
  targets?: boolean;
  onProgress?: (batches: number, samples: number) => void;
}

export const DEFAULT_CAPTURE_LIMIT = 2 * 1024 ** 3;

const mib = (b: number) => (b / 1024 ** 2).toFixed(1);

/** Bytes that caching these per-sample element counts for `samples` samples takes. */
export function captureBytes(elementsPerSample: Iterable<number>, samples: number): number {
  let n = 0;
  for (const e of elementsPerSample) n += e;
  return n * 4 * samples;
}

class Cache {
  private chunks: Float32Array[] = [];
  private filled = 0;
  private buffer: Float32Array | undefined;
  rest: number[] | undefined;
  rowsPerSample = 0;
  perSample = 0;

  constructor(readonly name: string) {}

  add(t: HostTensor, batch: number, expectedSamples: number | undefined): void {
    if (t.dtype !== 'float32')
      throw dataError(`cannot cache ${this.name} for reconstruction: it is ${t.dtype}, not float32`);
    const rows = t.dims[0] ?? 1;
    const rest = t.dims.slice(1);
    if (this.rest === undefined) {
      if (t.dims.length === 0 || rows % batch !== 0)
        throw dataError(
          `cannot cache ${this.name}: its first dimension (${rows}) is not a multiple of the batch ${batch}`,
        );
      this.rest = rest;
      this.rowsPerSample = rows / batch;
      this.perSample = t.data.length / batch;
      if (expectedSamples !== undefined) this.buffer = new Float32Array(this.perSample * expectedSamples);
    } else if (rest.join(',') !== this.rest.join(',') || rows !== this.rowsPerSample * batch)
      throw dataError(`${this.name} changed shape between batches: [${t.dims.join(', ')}]`);
    const data = t.data as Float32Array;
    if (this.buffer !== undefined) {
      if (this.filled + data.length > this.buffer.length)
        throw dataError(
          `the calibration feeds give more samples than the ${this.buffer.length / this.perSample} announced`,
        );
      this.buffer.set(data, this.filled);
    } else this.chunks.push(new Float32Array(data));
    this.filled += data.length;
  }

  finish(): TensorCache {
    let data = this.buffer?.subarray(0, this.filled);
    if (data === undefined) {
      data = new Float32Array(this.filled);
      let at = 0;
      for (const c of this.chunks) {
        data.set(c, at);
        at += c.length;
      }
      this.chunks = [];
    }
    const rows = this.perSample === 0 ? 0 : (this.filled / this.perSample) * this.rowsPerSample;
    return { name: this.name, dims: [rows, ...(this.rest ?? [])], rowsPerSample: this.rowsPerSample, data };
  }
}

/**
 * Entries of `units` from `inputModel` and exits from `targetModel`, in one pass over `feeds` (the same model object
 * for both is probed once). One pass serves several units only while the input model stays the same: see
 * captureGroups for weight reconstruction, where each finished unit changes what the units after it read.
 */
export async function captureUnits(
  inputModel: Model,
  targetModel: Model,
  units: readonly ReconstructionUnit[],
  feeds: AsyncIterable<Feeds> | Iterable<Feeds>,
  opts: CaptureOptions = {},
): Promise<CaptureResult> {
  const start = performance.now();
  const {
    limitBytes = DEFAULT_CAPTURE_LIMIT,
    samples: expected,
    onProgress,
    inputs: _i,
    targets: _t,
    ...session
  } = opts;
  const wantInputs = opts.inputs !== false;
  const wantTargets = opts.targets !== false;
  const same = inputModel === targetModel;
  const inNames = wantInputs ? [...new Set(units.flatMap((u) => u.entries))] : [];
  const outNames = wantTargets ? [...new Set(units.map((u) => u.exit))] : [];
  const key = (role: 'in' | 'out', name: string) => (same ? name : `${role}:${name}`);
  const caches = new Map<string, Cache>();
  for (const n of inNames) caches.set(key('in', n), new Cache(n));
  for (const n of outNames) caches.set(key('out', n), new Cache(n));
  const probers: [Prober, 'in' | 'out'][] = [];
  const firstInput = modelInputs(inputModel)[0]?.name;
  let batches = 0;
  let samples = 0;
  try {
    if (same) probers.push([await Prober.create(inputModel, [...new Set([...inNames, ...outNames])], session), 'in']);
    else {
      if (inNames.length > 0) probers.push([await Prober.create(inputModel, inNames, session), 'in']);
      if (outNames.length > 0) probers.push([await Prober.create(targetModel, outNames, session), 'out']);
    }
    for await (const f of feeds) {
      const batch = (firstInput === undefined ? undefined : f[firstInput]?.dims[0]) ?? 1;
      const got: [Cache, HostTensor][] = [];
      for (const [prober, role] of probers)
        for (const [name, t] of await prober.run(f)) got.push([caches.get(key(role, name))!, t]);
      // Checked before anything of this batch is stored (or a cache for all announced samples is allocated).
      const perSample = got.map(([, t]) => t.data.length / batch);
      const total = Math.max(samples + batch, expected ?? 0);
      const bytes = captureBytes(perSample, total);
      if (bytes > limitBytes)
        throw limitError(
          `caching the inputs and targets of ${units.length === 1 ? `unit ${units[0]!.id}` : `${units.length} units`} ` +
            `needs ${mib(bytes)} MiB for ${total}${expected === undefined ? '+' : ''} samples ` +
            `(${captureBytes(perSample, 1)} bytes per sample), over the limit of ${mib(limitBytes)} MiB`,
          'capture fewer units per pass, use fewer calibration samples, or raise limitBytes',
        );
      for (const [c, t] of got) c.add(t, batch, expected);
      batches++;
      samples += batch;
      onProgress?.(batches, samples);
    }
  } finally {
    for (const [p] of probers) await p.release();
  }
  if (batches === 0) throw dataError('calibration data is empty');
  const done = new Map([...caches].map(([k, c]) => [k, c.finish()]));
  const result = units.map((u): UnitCapture => {
    const out: UnitCapture = { unit: u.id, inputs: wantInputs ? u.entries.map((e) => done.get(key('in', e))!) : [] };
    if (wantTargets) out.target = done.get(key('out', u.exit))!;
    return out;
  });
  const bytes = [...done.values()].reduce((a, c) => a + c.data.byteLength, 0);
  return { units: result, samples, batches, bytes, seconds: (performance.now() - start) / 1000 };
}

/** One unit's entries and exit (a pass of its own, as the reference recaptures per unit). */
export async function captureUnit(
  inputModel: Model,
  targetModel: Model,
  unit: ReconstructionUnit,
  feeds: AsyncIterable<Feeds> | Iterable<Feeds>,
  opts: CaptureOptions = {},
): Promise<UnitCapture & Omit<CaptureResult, 'units'>> {
  const r = await captureUnits(inputModel, targetModel, [unit], feeds, opts);
  return { ...r.units[0]!, samples: r.samples, batches: r.batches, bytes: r.bytes, seconds: r.seconds };
}
