// Deployment: the int8 QDQ export (minmax W8/A8) vs the FP32 model in ORT, file size and latency at batch 1 and 64,
// and which ops ORT actually ran in integer: the node counts of the graph ORT optimized (optimizedModelFilePath).

import { join } from 'node:path';
import { readModel, serializeModel } from '../../src/onnx/io/index.js';
import type { Model } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/index.js';
import type { Benchmark, BenchContext } from '../lib/bench.js';
import { benchFeeds, randomFeeds } from '../lib/data.js';
import { quantizeTimed } from '../lib/methods.js';
import { benchModel, describeModel, loadBenchModel } from '../lib/models.js';
import type { Row } from '../lib/results.js';
import { pairedRatio, roundSummary, summarize } from '../lib/stats.js';
import { fitInner, interleave, timeMean } from '../lib/timing.js';

const BITS = { wBits: 8, aBits: 8 };

/** Op types that compute a matrix product or convolution in integers (ORT's QDQ fusions). */
const INTEGER_OPS = new Set([
  'QLinearMatMul',
  'MatMulInteger',
  'MatMulIntegerToFloat',
  'DynamicQuantizeMatMul',
  'QGemm',
  'QLinearConv',
  'ConvInteger',
]);
/** The same work in float (FusedConv/FusedMatMul/NchwcConv are ORT's float fusions). */
const FLOAT_OPS = new Set(['MatMul', 'Gemm', 'Conv', 'FusedMatMul', 'FusedGemm', 'FusedConv', 'Conv.nchwc']);

export interface OptimizedGraph {
  nodes: number;
  ops: Record<string, number>;
  integerMatmulConv: number;
  floatMatmulConv: number;
  /** float MatMul/Gemm/Conv that read a DequantizeLinear output: quantized tensors computed on in float */
  floatOnDequantized: number;
  quantizeLinear: number;
  dequantizeLinear: number;
}

export function describeOptimized(m: Model): OptimizedGraph {
  const ops: Record<string, number> = {};
  for (const n of m.graph.nodes) {
    const key = n.domain === 'com.microsoft.nchwc' ? `${n.opType}.nchwc` : n.opType;
    ops[key] = (ops[key] ?? 0) + 1;
  }
  const count = (set: Set<string>) => Object.entries(ops).reduce((a, [k, v]) => a + (set.has(k) ? v : 0), 0);
  const floatOnDequantized = m.graph.nodes.filter(
    (n) =>
      FLOAT_OPS.has(n.domain === 'com.microsoft.nchwc' ? `${n.opType}.nchwc` : n.opType) &&
      n.inputs.some((i) => m.graph.producerOf(i)?.opType === 'DequantizeLinear'),
  ).length;
  return {
    nodes: m.graph.nodes.length,
    ops: Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1])),
    integerMatmulConv: count(INTEGER_OPS),
    floatMatmulConv: count(FLOAT_OPS),
    floatOnDequantized,
    quantizeLinear: ops['QuantizeLinear'] ?? 0,
    dequantizeLinear: ops['DequantizeLinear'] ?? 0,
  };
}

const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

export const deploy: Benchmark = {
  name: 'deploy',
  title: 'Deployment: int8 QDQ export vs FP32 in ORT (size, latency, what ran in integer)',
  async run(ctx: BenchContext) {
    const names = ctx.quick ? ['tiny-deit', 'tiny-unet'] : ['deit-cifar10', 'ddim-fmnist'];
    const rounds = ctx.repeats(11, 3);
    const rows: Row[] = [];
    const results: Record<string, unknown>[] = [];
    const notes: string[] = [];
    for (const name of names) {
      const m = await benchModel(name);
      const model = loadBenchModel(m);
      const calib = await benchFeeds(m, model, 32, { seed: 0 });
      ctx.log(`deploy ${name}: minmax W8A8`);
      const q = await quantizeTimed(loadBenchModel(m), 'minmax', calib.feeds, BITS, ctx.threads);
      const qdq = q.result.qdq;
      const fpBytes = serializeModel(model).byteLength;
      const qdqBytes = serializeModel(qdq).byteLength;
      const optPath = (k: string) => join(ctx.scratch, `${name}-${k}.optimized.onnx`);
      const fpSession = await Session.create(model, { threads: ctx.threads, optimizedModelPath: optPath('fp32') });
      const qSession = await Session.create(qdq, { threads: ctx.threads, optimizedModelPath: optPath('int8') });
      const graphs = {
        fp32: describeOptimized(readModel(optPath('fp32'))),
        int8: describeOptimized(readModel(optPath('int8'))),
      };
      const entry: Record<string, unknown> = {
        model: describeModel(m),
        bits: BITS,
        qdqReport: { qdq: q.result.qdqReport.qdq, emulated: q.result.qdqReport.emulated.length },
        bytes: { fp32: fpBytes, int8: qdqBytes, ratio: Number((fpBytes / qdqBytes).toFixed(3)) },
        optimizedGraphs: graphs,
        latency: [] as unknown[],
      };
      const sizeRatio = fpBytes / qdqBytes;
      rows.push({
        measure: `${name}: FP32 file size / int8 QDQ file size`,
        value: `${mb(fpBytes)} vs ${mb(qdqBytes)}`,
        ratio: sizeRatio,
        goal: '≥ 3.5',
        met: sizeRatio >= 3.5,
      });
      try {
        for (const batch of [1, 64]) {
          const feeds = randomFeeds(model, batch, 1);
          const { sides, inner } = await fitInner(
            {
              fp32: (n) => timeMean(() => fpSession.run(feeds), n),
              int8: (n) => timeMean(() => qSession.run(feeds), n),
            },
            ctx.quick ? 0.02 : 0.25,
            ctx.quick ? 5 : 20,
          );
          ctx.log(`deploy ${name} batch ${batch}: ${rounds} rounds, calls per sample ${JSON.stringify(inner)}`);
          const r = await interleave(rounds, sides);
          const fp = summarize(r.samples['fp32']!.wall);
          const i8 = summarize(r.samples['int8']!.wall);
          const ratio = fp.median / i8.median;
          (entry['latency'] as unknown[]).push({
            batch,
            callsPerSample: inner,
            rounds,
            load: r.load,
            fp32Seconds: roundSummary(fp),
            int8Seconds: roundSummary(i8),
            speedup: Number(ratio.toFixed(3)),
            pairedSpeedup: roundSummary(pairedRatio(r.samples['fp32']!.wall, r.samples['int8']!.wall), 3),
          });
          rows.push({
            measure: `${name} batch ${batch}: FP32 time / int8 QDQ time (> 1: int8 faster)`,
            value: `FP32 ${ms(fp.median)}, int8 ${ms(i8.median)}`,
            ratio,
            goal: '> 1, or the reason',
            met: ratio > 1,
          });
        }
      } finally {
        await fpSession.release();
        await qSession.release();
      }
      const g = graphs.int8;
      notes.push(
        `${name}: in the graph ORT runs for the int8 export, ${g.integerMatmulConv} MatMul/Gemm/Conv run as integer ` +
          `kernels and ${g.floatMatmulConv} in float (${g.floatOnDequantized} of them on DequantizeLinear outputs, ` +
          `i.e. quantized in the file but computed in float, because ORT fuses DQ->op->Q into an integer kernel ` +
          `only where the output is re-quantized, or MatMul into MatMulIntegerToFloat); ${g.quantizeLinear} ` +
          `QuantizeLinear and ${g.dequantizeLinear} ` +
          `DequantizeLinear remain as separate ops (FP32 graph: ${graphs.fp32.floatMatmulConv} float ` +
          `MatMul/Gemm/Conv, ${graphs.fp32.nodes} nodes; int8: ${g.nodes} nodes).`,
      );
      results.push(entry);
    }
    notes.push(
      'Op counts come from the model ORT writes after its graph optimizations (optimizedModelFilePath, ' +
        'src/runtime SessionOptions.optimizedModelPath); latency with seeded random inputs, interleaved rounds.',
    );
    return { params: { models: names, bits: BITS, rounds, threads: ctx.threads }, results, rows, notes, pending: [] };
  },
};
