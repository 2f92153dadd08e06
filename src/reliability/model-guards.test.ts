// Regression tests for what the fuzzer and the scaling checks found in the quantization passes: each malformed
// model now stops with a model or data error that names the node or tensor, and large graphs stay linear.

import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateWeights, observerFor } from '../methods/calibrate.js';
import { recipeFor } from '../methods/ptq.js';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { parseModel, serializeModel, writeModel } from '../onnx/io/index.js';
import type { Model } from '../onnx/ir.js';
import { applyFakeQuant } from '../quant/fake-quant.js';
import { planQuantization } from '../quant/plan.js';
import { exportQdq } from '../quant/qdq-export.js';
import { runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';
import { expectError } from '../test-support/errors.js';

const root = mkdtempSync(join(tmpdir(), 'ql-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** x [1, 2] -> MatMul(w1 [2, 2]) -> MatMul(w2 [2, 3]); `edit` changes the graph before a serialize/parse. */
function twoMatMuls(edit: (m: Model) => void = () => {}, w1 = Float32Array.of(1, 2, 3, 4)): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 2]);
  const h = b.op('MatMul', [x, b.init('w1', w1, [2, 2])]);
  b.output(b.op('MatMul', [h, b.init('w2', Float32Array.of(5, 6, 7, 8, 9, 10), [2, 3])]));
  const m = makeModel(b.graph);
  edit(m);
  return parseModel(serializeModel(m));
}

const quantizeInProcess = (m: Model) => {
  const plan = planQuantization(m, recipeFor('minmax', 8, 32));
  calibrateWeights(m, plan);
  return { plan, sim: applyFakeQuant(m, plan) };
};

describe('malformed models in the quantization passes', () => {
  it('empty or repeated node names: every node still gets its own quantized weight', () => {
    for (const names of [
      ['', ''],
      ['dup', 'dup'],
    ]) {
      const m = twoMatMuls((m) => m.graph.nodes.forEach((n, i) => (n.name = names[i]!)));
      const { plan, sim } = quantizeInProcess(m);
      expect(new Set(plan.targets.flatMap((t) => t.uses.map((u) => u.node))).size).toBe(2);
      expect(sim.graph.nodes.map((n) => n.inputs[1])).toEqual(['w1__fq', 'w2__fq']);
    }
  });

  it('a weight whose rank cannot have the output-channel axis (a rank-0 Gemm weight)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2]);
    b.output(b.op('Gemm', [x, b.init('w', Float32Array.of(3), [])], { transB: 1 }, { name: 'fc' }));
    const m = parseModel(serializeModel(makeModel(b.graph)));
    expectError(
      () => planQuantization(m, recipeFor('minmax', 8, 8)),
      /node fc \(Gemm\): weight w has rank 0, too low for its output-channel axis 0/,
      'model',
    );
  });

  it('a quantized op without the inputs its type needs', () => {
    const m = twoMatMuls((m) => m.graph.setNodeInput(m.graph.nodes[1]!, 1, ''));
    expectError(
      () => planQuantization(m, recipeFor('minmax', 8, 8)),
      /node MatMul_1 \(MatMul\) has 2 inputs with a required one empty, needs 2/,
      'model',
    );
  });

  it('NaN or Inf in a weight: a data error naming the weight and the index', () => {
    for (const bad of [NaN, Infinity]) {
      const m = twoMatMuls(undefined, Float32Array.of(1, 2, bad, 4));
      expectError(
        () => quantizeInProcess(m),
        new RegExp(`weight w1 has a non-finite value \\(${bad}\\) at index \\[1, 0\\]`),
        'data',
      );
    }
  });

  it('50,000 independent nodes: read, plan, fake quant, QDQ export and write stay linear', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2]);
    const w = b.init('w', Float32Array.of(1, 2, 3, 4), [2, 2]);
    // Every node reads only the input: one wide "ready" front (topological sort) and 49,999 dead nodes (DCE).
    let last = x;
    for (let i = 0; i < 50_000; i++) last = b.op('MatMul', [x, w]);
    b.output(last);
    const bytes = serializeModel(makeModel(b.graph));
    const start = process.cpuUsage();
    const m = parseModel(bytes);
    const plan = planQuantization(m, recipeFor('minmax', 8, 8));
    calibrateWeights(m, plan);
    for (const t of plan.targets.filter((t) => t.role === 'activation')) {
      const o = observerFor(t);
      o.observe(Float32Array.of(-1, 2), [2]);
      t.params = o.compute();
    }
    const sim = applyFakeQuant(m, plan);
    exportQdq(m, plan);
    writeModel(sim, join(root, 'wide.onnx'));
    const used = process.cpuUsage(start);
    // Quadratic passes took minutes here (40,000 nodes: 30 s in the topological sort alone).
    expect((used.user + used.system) / 1e6).toBeLessThan(20);
    expect(sim.graph.nodes.length).toBeLessThan(10);
  });

  it('a LayerNormalization whose optional bias is written as an empty name runs (ORT 1.30 crashed on it)', () => {
    const m = parseModel(readFileSync(fixturePath('tiny-deit-op17.onnx')));
    for (const n of m.graph.nodes) if (n.opType === 'LayerNormalization') m.graph.setNodeInput(n, 2, '');
    const path = join(root, 'ln-no-bias.onnx');
    writeModel(m, path);
    // eval runs ORT with all graph optimizations, where it crashed (SIGSEGV; the fuzzer's seed 1, case 8310).
    const r = runCli(['eval', path, '--data', '/usr/share/datasets/fashion-mnist', '--limit', '8', '--json']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('control characters in model strings are escaped in the one error line the CLI prints', () => {
    const evil = 'evil\n\x1b[31mred';
    // Two nodes producing the same value: the reader's error names the value.
    const node = (name: string) => create(NodeProtoSchema, { name, opType: 'Relu', input: ['x'], output: [evil] });
    const bytes = toBinary(
      ModelProtoSchema,
      create(ModelProtoSchema, {
        irVersion: 8n,
        opsetImport: [create(OperatorSetIdProtoSchema, { version: 17n })],
        graph: create(GraphProtoSchema, { name: 'g', node: [node('a'), node('b')] }),
      }),
    );
    const path = join(root, 'evil.onnx');
    writeFileSync(path, bytes);
    const r = runCli(['inspect', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: ' + path + ': value evil\\x0a\\x1b[31mred is produced by both a and b\n');
  });
});
