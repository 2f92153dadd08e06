// Per-layer sensitivity: with every quantizer calibrated once, quantize one layer at a time (its weights, its
// activations, both) and then everything up to each layer (the accumulated view), and measure the output SQNR
// against the float model on the calibration items and top-1 on an evaluation subset. All variants share one
// session of the switchable model (switchable.ts). Calibration inputs are kept (they are few); the evaluation
// subset is kept in memory up to a budget and decoded again per variant above it.
// Imports the runtime, the agreement accumulator and top-k.

import type { Model } from '../onnx/ir.js';
import { Session, type Feeds, type SessionOptions } from '../runtime/index.js';
import { AgreementAccumulator } from '../eval/agreement.js';
import { topkHits } from '../eval/topk.js';
import { modelError } from '../errors.js';
import type { QuantPlan } from '../quant/plan.js';
import { buildSwitchable, switchFeeds, type Switchable } from './switchable.js';
import type { LayerSensitivity, SensitivityAnalysis } from './types.js';

export interface LabelledBatch {
  feeds: Feeds;
  labels: Int32Array;
}

/** Bytes of decoded evaluation inputs kept in memory across variants. */
export const EVAL_CACHE_BYTES = 256 * 2 ** 20;

export interface SensitivityInput {
  calib: readonly Feeds[];
  /** labelled evaluation batches for top-1 (none: SQNR only) */
  evalBatches?: () => AsyncIterable<LabelledBatch>;
  output: string;
  wBits: number;
  aBits: number;
  method: string;
}

export interface SensitivityOptions extends SessionOptions {
  onProgress?: (done: number, total: number) => void;
}

interface Score {
  sqnr: number;
  top1: number | null;
}

class VariantRunner {
  private reference: Float32Array[] = [];
  private cache: LabelledBatch[] | null = null;
  private overBudget = false;
  evalItems = 0;

  constructor(
    private readonly session: Session,
    private readonly sw: Switchable,
    private readonly input: SensitivityInput,
  ) {}

  private async outputOf(feeds: Feeds, on: ReadonlySet<string>): Promise<{ data: Float32Array; rows: number }> {
    const out = (await this.session.run({ ...feeds, ...switchFeeds(this.sw, on) }, [this.input.output]))[
      this.input.output
    ];
    if (out === undefined || out.dtype !== 'float32')
      throw modelError(`output ${this.input.output} is not a float32 tensor`);
    return { data: out.data as Float32Array, rows: out.dims[0] ?? 1 };
  }

  async score(on: ReadonlySet<string>): Promise<Score> {
    const acc = new AgreementAccumulator();
    const first = this.reference.length === 0;
    for (const [i, feeds] of this.input.calib.entries()) {
      const { data, rows } = await this.outputOf(feeds, on);
      if (first) this.reference.push(data);
      acc.add(this.reference[i]!, data, rows);
    }
    let hits = 0;
    let n = 0;
    for await (const b of this.evalBatches()) {
      const { data, rows } = await this.outputOf(b.feeds, on);
      hits += topkHits(data, data.length / rows, b.labels, 1);
      n += b.labels.length;
    }
    this.evalItems = n;
    return { sqnr: acc.result(this.input.output).sqnrDb, top1: n > 0 ? hits / n : null };
  }

  /** From memory once seen and within the budget; otherwise decoded anew. */
  private async *evalBatches(): AsyncGenerator<LabelledBatch> {
    const source = this.input.evalBatches;
    if (source === undefined) return;
    if (this.cache !== null && !this.overBudget) {
      yield* this.cache;
      return;
    }
    const filling = this.cache === null;
    const kept: LabelledBatch[] = [];
    let bytes = 0;
    for await (const b of source()) {
      if (filling && !this.overBudget) {
        bytes += Object.values(b.feeds).reduce((s, t) => s + t.data.byteLength, 0);
        if (bytes > EVAL_CACHE_BYTES) this.overBudget = true;
        else kept.push(b);
      }
      yield b;
    }
    if (filling) this.cache = this.overBudget ? [] : kept;
  }
}

export async function runSensitivity(
  model: Model,
  plan: QuantPlan,
  input: SensitivityInput,
  opts: SensitivityOptions = {},
): Promise<SensitivityAnalysis> {
  const start = performance.now();
  const sw = buildSwitchable(model, plan);
  const { onProgress, ...sessionOpts } = opts;
  const session = await Session.create(sw.model, sessionOpts);
  const layers = sw.layers;
  // fp + per layer (w, a, both) + accumulated
  const total = 1 + layers.reduce((s, l) => s + (l.w !== null && l.a !== null ? 3 : 1) + 1, 0);
  let done = 0;
  const runner = new VariantRunner(session, sw, input);
  const run = async (on: string[]): Promise<Score> => {
    const s = await runner.score(new Set(on));
    onProgress?.(++done, total);
    return s;
  };
  const result: LayerSensitivity[] = [];
  let fp: Score;
  try {
    fp = await run([]); // must be first: it records the reference outputs
    const accumulated: string[] = [];
    for (const [index, l] of layers.entries()) {
      const both = [l.w, l.a].filter((s): s is string => s !== null);
      const single = both.length === 2;
      const w = single ? await run([l.w!]) : null;
      const a = single ? await run([l.a!]) : null;
      const b = await run(both);
      accumulated.push(...both);
      const acc = await run(accumulated);
      result.push({
        node: l.node,
        opType: l.opType,
        index,
        hasWeight: l.w !== null,
        hasActivation: l.a !== null,
        sqnrW: w?.sqnr ?? (l.w !== null ? b.sqnr : null),
        sqnrA: a?.sqnr ?? (l.a !== null ? b.sqnr : null),
        sqnrBoth: b.sqnr,
        top1W: w?.top1 ?? (l.w !== null ? b.top1 : null),
        top1A: a?.top1 ?? (l.a !== null ? b.top1 : null),
        top1Both: b.top1,
        sqnrAccumulated: acc.sqnr,
        top1Accumulated: acc.top1,
        noiseShare: 0,
      });
    }
  } finally {
    await session.release();
  }
  // Noise power ∝ 10^(−SQNR/10) with a common signal: each layer's share of the summed single-layer noise.
  const noise = result.map((r) => 10 ** (-r.sqnrBoth / 10));
  const sum = noise.reduce((a, b) => a + b, 0);
  result.forEach((r, i) => (r.noiseShare = sum > 0 ? noise[i]! / sum : 0));
  const last = result.at(-1);
  return {
    wBits: input.wBits,
    aBits: input.aBits,
    method: input.method,
    output: input.output,
    calibItems: input.calib.reduce((s, f) => s + (Object.values(f)[0]?.dims[0] ?? 0), 0),
    evalItems: runner.evalItems,
    fpTop1: fp.top1,
    allSqnr: last?.sqnrAccumulated ?? Infinity,
    allTop1: last?.top1Accumulated ?? fp.top1,
    layers: result,
    seconds: (performance.now() - start) / 1000,
  };
}
