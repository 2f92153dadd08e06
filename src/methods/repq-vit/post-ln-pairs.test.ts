// Post-LayerNorm pairs found by topology: the pairs the official code selects by module name (norm1 -> qkv,
// norm2 -> fc1, patch merging's norm -> reduction) and nothing else, through Swin's roll and window partition.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { readModel } from '../../onnx/io/index.js';
import { fixturePath, loadReference, maxAbsDiff } from '../../test-support/fixtures.js';
import { runModel } from '../../test-support/repq-vit.js';
import { findPostLnPairs } from './post-ln-pairs.js';

describe('findPostLnPairs on the fixtures', () => {
  it.each(['tiny-deit-op17', 'tiny-deit-op13', 'tiny-swin-op17', 'tiny-swin-op13'])(
    '%s: the pairs are the official selection by module name (qkv, fc1, reduction inputs per PyTorch hooks)',
    async (name) => {
      const model = readModel(fixturePath(`${name}.onnx`));
      const ref = loadReference(`${name}.ref.json`);
      const byName = ref.tensors
        .filter((t) => t.kind === 'matmul_input' && /(qkv|fc1|reduction)$/.test(t.module))
        .map((t) => t.tensor);
      expect(findPostLnPairs(model.graph).pairs.map((p) => p.tensor)).toEqual(byName);
      // And the fixture computes in ORT what PyTorch computed.
      const out = await runModel(model, ref.inputs);
      const want = ref.outputs.logits!;
      expect(maxAbsDiff({ dtype: 'float32', dims: want.dims, data: out.logits! }, want)).toBeLessThan(1e-4);
    },
  );

  it.each(['tiny-deit-op17', 'tiny-deit-op13'])(
    '%s: norm1 -> qkv and norm2 -> fc1; the final norm is left out',
    (name) => {
      const g = readModel(fixturePath(`${name}.onnx`)).graph;
      const { pairs, skipped } = findPostLnPairs(g);
      expect(pairs.map((p) => p.consumers.map((c) => c.node))).toEqual([
        ['/blocks.0/attn/qkv/MatMul'],
        ['/blocks.0/mlp/fc1/MatMul'],
        ['/blocks.1/attn/qkv/MatMul'],
        ['/blocks.1/mlp/fc1/MatMul'],
      ]);
      expect(pairs.every((p) => p.channels === 32 && p.path.length === 0 && p.tensor === p.norm.output)).toBe(true);
      expect(pairs.map((p) => p.norm.kind)).toEqual(new Array(4).fill(name.endsWith('13') ? 'decomposed' : 'fused'));
      expect(skipped).toHaveLength(1);
      expect(skipped[0]!.name).toMatch(/^\/norm\//);
      expect(skipped[0]!.reason).toMatch(/single token/);
    },
  );

  it.each(['tiny-swin-op17', 'tiny-swin-op13'])(
    '%s: through roll and window partition, patch merging included',
    (name) => {
      const g = readModel(fixturePath(`${name}.onnx`)).graph;
      const { pairs, skipped } = findPostLnPairs(g);
      const byConsumer = new Map(pairs.map((p) => [p.consumers[0]!.node, p]));
      expect([...byConsumer.keys()]).toEqual([
        '/layers.0/blocks.0/attn/qkv/MatMul',
        '/layers.0/blocks.0/mlp/fc1/MatMul',
        '/layers.0/blocks.1/attn/qkv/MatMul',
        '/layers.0/blocks.1/mlp/fc1/MatMul',
        '/layers.0/downsample/reduction/MatMul',
        '/layers.1/blocks.0/attn/qkv/MatMul',
        '/layers.1/blocks.0/mlp/fc1/MatMul',
        '/layers.1/blocks.1/attn/qkv/MatMul',
        '/layers.1/blocks.1/mlp/fc1/MatMul',
      ]);
      // Window partition: Reshape, Reshape, Transpose, Reshape; the shifted block adds the roll (Slice/Concat x2).
      const ops = (consumer: string) =>
        byConsumer.get(consumer)!.path.map((n) => g.nodes.find((x) => x.name === n)!.opType);
      expect(ops('/layers.0/blocks.0/attn/qkv/MatMul')).toEqual(['Reshape', 'Reshape', 'Transpose', 'Reshape']);
      expect(ops('/layers.0/blocks.1/attn/qkv/MatMul')).toEqual([
        'Reshape',
        'Slice',
        'Slice',
        'Concat',
        'Slice',
        'Slice',
        'Concat',
        'Reshape',
        'Transpose',
        'Reshape',
      ]);
      expect(byConsumer.get('/layers.0/downsample/reduction/MatMul')!.channels).toBe(64);
      expect(skipped.map((s) => s.name.split('/')[1])).toEqual(['patch_norm', 'norm']);
    },
  );
});

/** x [B, 4, 8] -> LayerNorm -> `tail` -> MatMul with a [8, 3] weight. */
function lnGraph(tail: (b: GraphBuilder, ln: string) => string) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['B', 4, 8]);
  const ln = b.op(
    'LayerNormalization',
    [x, b.init('g', new Float32Array(8).fill(1), [8]), b.init('b', new Float32Array(8), [8])],
    { axis: -1 },
  );
  const y = b.op('MatMul', [tail(b, ln), b.init('w', new Float32Array(24).fill(0.5), [8, 3])]);
  b.output(y);
  return makeModel(b.graph, 17).graph;
}

const shapeOf = (b: GraphBuilder, v: number[]) =>
  b.init(b.namer.fresh('shape'), BigInt64Array.from(v.map(BigInt)), [v.length]);

describe('findPostLnPairs rejects what is not channel-preserving data movement', () => {
  it('accepts a Reshape that keeps the channels last, and token Gathers', () => {
    const g = lnGraph((b, ln) =>
      b.op('Gather', [b.op('Reshape', [ln, shapeOf(b, [-1, 2, 2, 8])]), b.init('i', BigInt64Array.of(0n, 1n), [2])], {
        axis: 1,
      }),
    );
    expect(findPostLnPairs(g).pairs).toHaveLength(1);
  });

  it.each([
    [
      'a Reshape that splits the channels',
      (b: GraphBuilder, ln: string) => b.op('Reshape', [ln, shapeOf(b, [-1, 4, 2, 4])]),
      /Reshape/,
    ],
    [
      'a Transpose that moves them',
      (b: GraphBuilder, ln: string) => b.op('Transpose', [ln], { perm: [0, 2, 1] }),
      /contract|Reshape/,
    ],
    ['a residual Add', (b: GraphBuilder, ln: string) => b.op('Add', [ln, 'x']), /Add/],
    ['a Concat with another tensor', (b: GraphBuilder, ln: string) => b.op('Concat', [ln, 'x'], { axis: 1 }), /Concat/],
    [
      'a Slice of channels',
      (b: GraphBuilder, ln: string) => b.op('Slice', [ln, shapeOf(b, [0]), shapeOf(b, [4]), shapeOf(b, [-1])]),
      /Slice/,
    ],
  ])('rejects %s', (_what, tail, reason) => {
    const { pairs, skipped } = findPostLnPairs(lnGraph(tail));
    expect(pairs).toHaveLength(0);
    expect(skipped[0]!.reason).toMatch(reason);
  });
});
