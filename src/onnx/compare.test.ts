import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from './builder.js';
import { describeModel, firstDifference } from './compare.js';

function model(scale: number) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['n', 2]);
  const w = b.init('w', Float32Array.of(1, scale), [2]);
  b.output(b.op('Mul', [x, w], { alpha: 0.5 }), 'float32', ['n', 2]);
  return makeModel(b.graph);
}

describe('firstDifference', () => {
  it('finds nothing between equal models and names the path of a difference', () => {
    expect(firstDifference(describeModel(model(2)), describeModel(model(2)))).toBeUndefined();
    expect(firstDifference(describeModel(model(2)), describeModel(model(3)))).toMatch(
      /^graph\.initializers\[0\]\[1\]\.data/,
    );
    const m = model(2);
    m.graph.nodes[0]!.attributes.set('alpha', { type: 'float', value: 0.25 });
    expect(firstDifference(describeModel(model(2)), describeModel(m))).toBe(
      'graph.nodes[0].attributes[0][1].value: 0.5 vs 0.25',
    );
  });

  it('compares bytes, bigints, -0 and NaN exactly', () => {
    expect(firstDifference(Float32Array.of(NaN), Float32Array.of(NaN))).toBeUndefined();
    expect(firstDifference(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toMatch(/differ/);
    expect(firstDifference(0, -0)).toBe('(root): 0 vs 0');
    expect(firstDifference(NaN, NaN)).toBeUndefined();
    expect(firstDifference([1n], [2n])).toBe('[0]: 1n vs 2n');
  });
});
