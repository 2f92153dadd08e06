// The benchmark helpers whose mistakes would silently skew results: statistics, FLOP counting, op counting of the
// optimized graph, and the summary table.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../src/onnx/builder.js';
import { readModel } from '../../src/onnx/io/index.js';
import { Session } from '../../src/runtime/index.js';
import { describeOptimized } from '../benchmarks/deploy.js';
import { matmulModel } from '../benchmarks/gemm.js';
import { randomFeeds, splitFeeds } from './data.js';
import { countFlops, nodeFlops } from './flops.js';
import { repoRoot } from './python.js';
import { renderSummary, type BenchFile } from './results.js';
import { pairedRatio, summarize } from './stats.js';

describe('summarize', () => {
  it('gives the median and quartiles with linear interpolation', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(summarize([1, 2, 3, 4]).median).toBe(2.5);
  });

  it('pairs ratios round by round', () => {
    expect(pairedRatio([2, 4, 9], [1, 2, 3]).median).toBe(2);
  });
});

describe('FLOP counting', () => {
  it('counts 2 FLOPs per multiply-accumulate for MatMul, Gemm and Conv', () => {
    expect(nodeFlops('MatMul', [8, 65, 192], [192, 576], [8, 65, 576])).toBe(2 * 8 * 65 * 576 * 192);
    expect(nodeFlops('Gemm', [192, 4], [192, 10], [4, 10], true)).toBe(2 * 4 * 10 * 192);
    expect(nodeFlops('Conv', [1, 3, 32, 32], [192, 3, 4, 4], [1, 192, 8, 8])).toBe(2 * 192 * 64 * 48);
  });

  // PyTorch's count_flops (tools/quantlens_models.py) on the fixtures' configurations gives these numbers.
  it.each([
    ['tiny-deit-op17', 959360],
    ['tiny-deit-op13', 959360],
    ['tiny-unet-op17', 2085888],
  ])('matches PyTorch module hooks on %s', async (name, expected) => {
    const model = readModel(`${repoRoot}fixtures/${name}.onnx`);
    const c = await countFlops(model, randomFeeds(model, 2), { threads: 1 });
    expect(c.perItem).toBe(expected);
    expect(c.total).toBe(2 * expected);
  });
});

describe('benchmark inputs', () => {
  it('makes seeded feeds for every input and splits them into batches', () => {
    const model = readModel(`${repoRoot}fixtures/tiny-unet-op17.onnx`);
    const f = randomFeeds(model, 5, 7);
    expect(f['x']!.dims).toEqual([5, 1, 8, 8]);
    expect(f['t']!.dtype).toBe('int64');
    expect(randomFeeds(model, 5, 7)['x']!.data).toEqual(f['x']!.data);
    const parts = splitFeeds(f, 2);
    expect(parts.map((p) => p['x']!.dims[0])).toEqual([2, 2, 1]);
    expect(parts[2]!['t']!.data[0]).toBe(f['t']!.data[4]);
  });
});

describe('the MatMul microbenchmark graph', () => {
  it('multiplies', async () => {
    const s = await Session.create(matmulModel(2), { threads: 1 });
    const out = await s.run({
      a: { dtype: 'float32', dims: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      b: { dtype: 'float32', dims: [2, 2], data: Float32Array.from([1, 0, 0, 1]) },
    });
    await s.release();
    expect(Array.from(Object.values(out)[0]!.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });
});

describe('describeOptimized', () => {
  it('tells integer kernels from float ops that read dequantized tensors', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 2]);
    const wq = b.init('wq', Int8Array.from([1, 2, 3, 4]), [2, 2], 'int8');
    const s = b.init('s', Float32Array.from([0.1]), []);
    const w = b.op('DequantizeLinear', [wq, s]);
    const y = b.op('MatMul', [x, w]);
    const z = b.op('MatMulIntegerToFloat', [x, wq], {}, { domain: 'com.microsoft' });
    b.output(b.op('Add', [y, z]));
    const g = describeOptimized(makeModel(b.graph));
    expect(g).toMatchObject({ integerMatmulConv: 1, floatMatmulConv: 1, floatOnDequantized: 1, dequantizeLinear: 1 });
  });
});

describe('renderSummary', () => {
  it('writes one table row per measure with the ratio, the goal and whether it was met', () => {
    const load = { at: '2026-01-01T00:00:00Z', one: 1.5, five: 1, fifteen: 1 };
    const file: BenchFile = {
      schemaVersion: 1,
      name: 'calibration',
      title: 't',
      command: 'npm run bench -- --only calibration',
      quick: false,
      startedAt: load.at,
      seconds: 3,
      machine: {
        cpu: 'cpu',
        cores: 2,
        memoryGiB: 24,
        freeMemoryGiB: 20,
        loadavg: load,
        node: 'v20',
        onnxruntime: '1.30.0',
        torch: '1.13',
        quantlens: '0.1.0',
        git: 'abc',
      },
      loadEnd: { ...load, one: 2.25 },
      params: {},
      results: {},
      rows: [{ measure: 'repq-vit, PyTorch / quantlens', value: '1 s vs 9 s', ratio: 9, goal: '≥ 5', met: true }],
      notes: ['a note'],
      pending: ['something'],
    };
    const md = renderSummary([file], ['calibration']);
    expect(md).toContain(
      '| calibration | repq-vit, PyTorch / quantlens | 1 s vs 9 s | 9.00x | ≥ 5 | yes | 1.5 → 2.3 |',
    );
    expect(md).toContain('- Pending: something');
  });
});
