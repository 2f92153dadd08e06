// One fuzz case: pick a seed file, mutate it (rng from (seed, case)), then push it through what a user runs on an
// untrusted model: read (parseModel / readModel with external data), inspect (summary, recorded model info), quantize
// (plan, weight calibration, fake quant and QDQ export, with synthetic activation ranges), the graph rewrites
// (constant folding, LayerNorm fusion/decomposition, the post-LN pair finder, the opset raise) and, for a sample,
// ORT calibration and a session. The case passes when every stage either succeeds or stops with a QuantlensError
// whose message is one non-empty line and whose kind is not 'usage'; anything else (a foreign exception, a
// multi-line message, a model problem blamed on the command line, a slow case) is a failure. Hangs and crashes are
// caught by the caller (bench/fuzz-long.ts runs cases in child processes under a watchdog).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isQuantlensError, type ErrorKind } from '../errors.js';
import { parseModel, readModel, serializeModel } from '../onnx/io/index.js';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { Graph, type Model } from '../onnx/ir.js';
import { summarizeModel } from '../onnx/summary.js';
import { cloneModel } from '../onnx/clone.js';
import {
  decomposeLayerNorms,
  findLayerNorms,
  foldConstants,
  fuseLayerNorms,
  raiseDefaultOpset,
} from '../onnx/rewrite/index.js';
import { findPostLnPairs } from '../methods/repq-vit/post-ln-pairs.js';
import { readModelInfo, writeModelInfo } from '../models/model-info.js';
import { calibrateActivations, calibrateWeights, observerFor } from '../methods/calibrate.js';
import { LINEAR_METHODS, recipeFor, type LinearMethod } from '../methods/ptq.js';
import { applyFakeQuant } from '../quant/fake-quant.js';
import { exportQdq } from '../quant/qdq-export.js';
import { planQuantization } from '../quant/plan.js';
import { modelInputs, Session, type Feeds } from '../runtime/index.js';
import type { HostTensor } from '../util/host-tensor.js';
import { caseSeed, makeSeed, mutateData, mutateModel, Rng, type Seed } from './mutate.js';

export type Stage = 'read' | 'inspect' | 'quantize' | 'rewrite' | 'runtime';

export interface CorpusEntry {
  name: string;
  /** relative weight when picking a seed */
  weight: number;
  model: Seed;
  /** external data: the file name the model refers to and its bytes */
  ext?: { location: string; data: Uint8Array };
}

/** The seed files: the fixtures the issue names (weighted up), the other exports, and a quantlens output. */
export function loadCorpus(fixturesDir: string): CorpusEntry[] {
  const file = (name: string) => new Uint8Array(readFileSync(join(fixturesDir, name)));
  const entries: CorpusEntry[] = [
    { name: 'tiny-deit-op17', weight: 3, model: makeSeed(file('tiny-deit-op17.onnx')) },
    { name: 'tiny-unet-op13', weight: 3, model: makeSeed(file('tiny-unet-op13.onnx')) },
    {
      name: 'tiny-deit-ext',
      weight: 3,
      model: makeSeed(file('tiny-deit-ext/model.onnx')),
      ext: { location: 'weights.bin', data: file('tiny-deit-ext/weights.bin') },
    },
    { name: 'tiny-deit-op13', weight: 1, model: makeSeed(file('tiny-deit-op13.onnx')) },
    { name: 'tiny-unet-op17', weight: 1, model: makeSeed(file('tiny-unet-op17.onnx')) },
  ];
  // A quantlens output: fake-quant chains, quantlens metadata (JSON) and names made by naming.ts.
  const deit = parseModel(file('tiny-deit-op17.onnx'));
  const plan = planQuantization(deit, recipeFor('minmax', 8, 8));
  quantizeInProcess(deit, plan);
  const sim = applyFakeQuant(deit, plan);
  writeModelInfo(sim, {
    task: 'classification',
    dataset: 'cifar10',
    preprocess: { size: 16, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
  });
  entries.push({ name: 'deit-quantized', weight: 1, model: makeSeed(serializeModel(sim)) });
  entries.push({ name: 'built-mix', weight: 1, model: makeSeed(serializeModel(builtMix())) });
  return entries;
}

/** What the exports above lack: ConvTranspose, a Gemm weight shared through Identity, an If with subgraphs. */
function builtMix(): Model {
  const values = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 0.5);
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 4, 6, 6]);
  const c = b.op('Conv', [x, b.init('conv.weight', values(144), [4, 4, 3, 3])], { pads: [1, 1, 1, 1] });
  const t = b.op('ConvTranspose', [c, b.init('up.weight', values(32), [4, 2, 2, 2])], { strides: [2, 2] });
  const f = b.op('Flatten', [t], { axis: 1 });
  const shared = b.op('Identity', [b.init('fc.weight', values(8 * 288), [8, 288])]);
  const g = b.op('Gemm', [f, shared, b.init('fc.bias', values(8), [8])], { transB: 1 });
  const m = b.op('MatMul', [g, b.init('mm.weight', values(64), [8, 8])]);
  const cond = b.op('Greater', [b.op('ReduceSum', [m], { keepdims: 0 }), b.init('zero', Float32Array.of(0), [])]);
  const branch = (op: string) => {
    const sub = new GraphBuilder(new Graph({ name: `${op}_branch` }));
    sub.output(sub.op(op, [m]), 'float32', ['batch', 8]);
    return sub.graph;
  };
  const y = b.op('If', [cond], { then_branch: branch('Relu'), else_branch: branch('Neg') });
  b.output(y, 'float32', ['batch', 8]);
  return makeModel(b.graph);
}

// What activation observers see instead of probed tensors: fixed, with a spread and a sign change.
const SYNTHETIC = Float32Array.from({ length: 257 }, (_, i) => Math.sin(i * 0.37) * (1 + i / 64));

/** Weight calibration from the initializers, activation ranges from SYNTHETIC: no runtime needed. */
function quantizeInProcess(model: Model, plan: ReturnType<typeof planQuantization>): void {
  calibrateWeights(model, plan);
  for (const t of plan.targets) {
    if (t.role !== 'activation') continue;
    const obs = observerFor(t);
    obs.observe(SYNTHETIC, [SYNTHETIC.length]);
    t.params = obs.compute();
  }
}

/**
 * Feeds for the model's inputs from SYNTHETIC (float) or a small constant (integer time steps), symbolic dims as 2;
 * undefined when an input has no usable type or is large (the runtime stage is then skipped).
 */
export function syntheticFeeds(model: Model): Feeds | undefined {
  const feeds: Feeds = {};
  for (const spec of modelInputs(model)) {
    const shape = spec.type?.shape;
    if (shape === undefined) return undefined;
    const dims = shape.map((d) => (typeof d === 'number' ? d : 2));
    const n = dims.reduce((a, b) => a * b, 1);
    if (dims.some((d) => d > 256) || n > 1 << 18) return undefined;
    let t: HostTensor;
    if (spec.type!.dtype === 'float32')
      t = {
        dtype: 'float32',
        dims,
        data: Float32Array.from({ length: n }, (_, i) => SYNTHETIC[i % SYNTHETIC.length]!),
      };
    else if (spec.type!.dtype === 'int64') t = { dtype: 'int64', dims, data: new BigInt64Array(n).fill(7n) };
    else return undefined;
    feeds[spec.name] = t;
  }
  return feeds;
}

export interface CaseOptions {
  /** folder the case may write its model and external data into (needed for seeds with external data) */
  workDir: string;
  /** create an ORT session for this case (slow: done for a sample) */
  runtime: boolean;
  /** a case slower than this is a failure (ms of CPU time of this process) */
  slowMs: number;
  /** methods to draw from (default: all linear methods) */
  methods?: readonly LinearMethod[];
}

export interface CaseResult {
  index: number;
  seed: string;
  steps: string[];
  outcome: 'ok' | 'rejected' | 'failure';
  /** the stage that rejected or failed, or the last stage run when ok */
  stage: Stage;
  kind?: ErrorKind;
  message?: string;
  /** for failures: what was wrong */
  problem?: string;
  ms: number;
  method: string;
}

/** The mutated files of case `index` (same bytes for the same seed and index). */
export function makeCase(
  corpus: readonly CorpusEntry[],
  seed: number,
  index: number,
): { entry: CorpusEntry; model: Uint8Array; data?: Uint8Array; steps: string[]; rng: Rng } {
  const rng = new Rng(caseSeed(seed, index));
  const total = corpus.reduce((n, e) => n + e.weight, 0);
  let r = rng.float() * total;
  const entry = corpus.find((e) => (r -= e.weight) < 0) ?? corpus[corpus.length - 1]!;
  if (entry.ext === undefined) {
    const m = mutateModel(entry.model, rng);
    return { entry, model: m.bytes, steps: m.steps, rng };
  }
  // External data: mutate the model (50%), the data file (25%) or both (25%).
  const which = rng.float();
  const m = which < 0.75 ? mutateModel(entry.model, rng) : { bytes: entry.model.bytes, steps: [] };
  const d = which >= 0.5 ? mutateData(entry.ext.data, rng) : { bytes: entry.ext.data, steps: [] };
  return { entry, model: m.bytes, data: d.bytes, steps: [...m.steps, ...d.steps], rng };
}

function describeForeign(e: unknown): string {
  if (e instanceof Error) {
    const frame = e.stack?.split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
    return `${e.name}: ${e.message.split('\n')[0]} ${frame.trim()}`;
  }
  return `thrown ${typeof e}: ${String(e)}`;
}

export async function runCase(
  corpus: readonly CorpusEntry[],
  seed: number,
  index: number,
  opts: CaseOptions,
): Promise<CaseResult> {
  const c = makeCase(corpus, seed, index);
  const method = c.rng.pick(opts.methods ?? LINEAR_METHODS);
  const wBits = c.rng.pick([8, 4, 2]);
  const aBits = c.rng.pick([8, 4, 32]);
  const base = { index, seed: c.entry.name, steps: c.steps, method: `${method} W${wBits}A${aBits}` };
  let stage: Stage = 'read';
  // CPU time, not wall time: the check is about work done (a runaway loop), not about a busy machine.
  const start = process.cpuUsage();
  const finish = (r: Omit<CaseResult, 'ms' | 'index' | 'seed' | 'steps' | 'method'>): CaseResult => {
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    if (r.outcome !== 'failure' && ms > opts.slowMs)
      return { ...base, ...r, outcome: 'failure', problem: `took ${ms.toFixed(0)} ms of CPU`, ms };
    return { ...base, ...r, ms };
  };
  try {
    let model: Model;
    if (c.entry.ext !== undefined) {
      writeFileSync(join(opts.workDir, 'model.onnx'), c.model);
      writeFileSync(join(opts.workDir, c.entry.ext.location), c.data!);
      model = readModel(join(opts.workDir, 'model.onnx'));
    } else model = parseModel(c.model, { what: `case ${index}` });
    stage = 'inspect';
    JSON.stringify(summarizeModel(model));
    readModelInfo(model);
    stage = 'quantize';
    const recipe = recipeFor(method, wBits, aBits);
    const plan = planQuantization(model, recipe);
    quantizeInProcess(model, plan);
    const sim = applyFakeQuant(model, plan);
    serializeModel(sim);
    serializeModel(exportQdq(model, plan).model);
    // The graph rewrites quantize and RepQ-ViT run: constant folding, LayerNorm finding and conversion, the post-LN
    // pair finder, the opset raise for 4-bit QDQ.
    stage = 'rewrite';
    const r = cloneModel(model);
    foldConstants(r.graph);
    findLayerNorms(r.graph);
    findPostLnPairs(r.graph);
    if (c.rng.chance(0.5)) fuseLayerNorms(r);
    else decomposeLayerNorms(r);
    raiseDefaultOpset(r, 21);
    serializeModel(r);
    const feeds = opts.runtime ? syntheticFeeds(model) : undefined;
    if (feeds !== undefined) {
      // What `quantize` does with ORT: probe and calibrate activations, then run the simulated model.
      stage = 'runtime';
      const real = planQuantization(model, recipe);
      calibrateWeights(model, real);
      await calibrateActivations(model, real, [feeds], { threads: 1 });
      const session = await Session.create(applyFakeQuant(model, real), { threads: 1 });
      try {
        await session.run(feeds);
      } finally {
        await session.release();
      }
    }
    return finish({ outcome: 'ok', stage });
  } catch (e) {
    if (!isQuantlensError(e)) return finish({ outcome: 'failure', stage, problem: describeForeign(e) });
    const message = e.message;
    // The command is fixed and valid: a usage error here is a model problem reported as the user's mistake.
    const problem =
      message.trim() === ''
        ? 'empty message'
        : /[\n\r]/.test(message) || (e.hint !== undefined && /[\n\r]/.test(e.hint))
          ? 'message is not one line'
          : e.kind === 'usage'
            ? 'a model problem reported as a usage error'
            : undefined;
    return finish({
      outcome: problem === undefined ? 'rejected' : 'failure',
      stage,
      kind: e.kind,
      message: message.slice(0, 300),
      ...(problem === undefined ? {} : { problem }),
    });
  }
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  ok: number;
  /** typed rejections by stage, then by kind: "read/model" */
  rejected: Record<string, number>;
  failures: CaseResult[];
  bySeed: Record<string, number>;
  byMutation: Record<string, number>;
  runtimeSessions: number;
  maxMs: number;
  seconds: number;
}

export function emptySummary(seed: number): FuzzSummary {
  return {
    seed,
    cases: 0,
    ok: 0,
    rejected: {},
    failures: [],
    bySeed: {},
    byMutation: {},
    runtimeSessions: 0,
    maxMs: 0,
    seconds: 0,
  };
}

export function addResult(s: FuzzSummary, r: CaseResult, runtime: boolean): void {
  s.cases++;
  s.maxMs = Math.max(s.maxMs, r.ms);
  s.bySeed[r.seed] = (s.bySeed[r.seed] ?? 0) + 1;
  for (const step of r.steps) {
    const kind = step.startsWith('data: ') ? `data ${step.split(' ')[1]}` : step.split(' ')[0]!;
    s.byMutation[kind] = (s.byMutation[kind] ?? 0) + 1;
  }
  if (runtime && r.outcome !== 'failure' && r.stage === 'runtime') s.runtimeSessions++;
  if (r.outcome === 'ok') s.ok++;
  else if (r.outcome === 'rejected') {
    const key = `${r.stage}/${r.kind}`;
    s.rejected[key] = (s.rejected[key] ?? 0) + 1;
  } else s.failures.push(r);
}
