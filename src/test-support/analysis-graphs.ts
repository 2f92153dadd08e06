// Tiny graphs with known analysis answers, for src/analysis and src/report tests:
//  - a LayerNorm over 6 channels with gamma [1,1,1,1,1,10] fed ±1 patterns, so every channel's range is 2·gamma
//    (up to the 1/√(1+ε) of normalization) and the inter-channel variation is exactly 10;
//  - a Softmax fed logits whose probabilities are known ([.5, .25, .125, .125] and [≈1, e^−20 ×3]);
//  - MatMuls consuming both (one with a weight, one activation-activation), summed into one output `logits`.
// Node and tensor names can be made hostile (markup and script) to test the report's escaping.

import { GraphBuilder, makeModel } from '../onnx/builder.js';
import type { Model } from '../onnx/ir.js';
import type { Feeds } from '../runtime/index.js';

export const GAMMA = [1, 1, 1, 1, 1, 10];
export const C = GAMMA.length;
export const TOKENS = 4;
export const K = 4;
export const HOSTILE = '<script>alert(1)</script>';
export const HOSTILE_IMG = '<img src=x onerror=alert(2)>';

export function knownModel(hostile = false): Model {
  const b = new GraphBuilder();
  const n = (s: string) => (hostile ? `${s}${HOSTILE}` : s);
  const x = b.input('x', 'float32', ['batch', TOKENS, C]);
  const s = b.input('s', 'float32', ['batch', TOKENS, K]);
  const v = b.input('v', 'float32', ['batch', K, 3]);
  const gamma = b.init('gamma', Float32Array.from(GAMMA), [C]);
  const beta = b.init('beta', new Float32Array(C), [C]);
  const ln = b.op(
    'LayerNormalization',
    [x, gamma, beta],
    { axis: -1, epsilon: 1e-5 },
    {
      name: n('norm'),
      floatAttrs: ['epsilon'],
      ...(hostile ? { outputNames: [`"><svg onload=alert(3)>`] } : {}),
    },
  );
  const w = b.init(
    'w',
    Float32Array.from({ length: C * 3 }, (_, i) => ((i % 5) - 2) / 4),
    [C, 3],
  );
  const y = b.op('MatMul', [ln, w], {}, { name: hostile ? HOSTILE_IMG : 'fc' });
  const p = b.op('Softmax', [s], { axis: -1 }, { name: n('softmax') });
  const o = b.op('MatMul', [p, v], {}, { name: n('attn_v') });
  const logits = b.op('Add', [y, o], {}, { name: 'sum', outputNames: ['logits'] });
  b.output(logits, 'float32', ['batch', TOKENS, 3]);
  return makeModel(b.graph, 17);
}

const LOGITS_A = [Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)];
const LOGITS_B = [0, -20, -20, -20];

/** One batch: token t of item i is ±(i + 1)·[1, −1, 1, −1, 1, −1]; softmax rows alternate A and B. */
export function knownFeeds(batch: number, seed = 0): Feeds {
  const x = new Float32Array(batch * TOKENS * C);
  const s = new Float32Array(batch * TOKENS * K);
  const v = new Float32Array(batch * K * 3);
  for (let i = 0; i < batch; i++)
    for (let t = 0; t < TOKENS; t++) {
      const sign = t % 2 === 0 ? 1 : -1;
      for (let c = 0; c < C; c++) x[(i * TOKENS + t) * C + c] = sign * (i + 1 + seed) * (c % 2 === 0 ? 1 : -1);
      s.set(t % 2 === 0 ? LOGITS_A : LOGITS_B, (i * TOKENS + t) * K);
    }
  for (let k = 0; k < v.length; k++) v[k] = Math.sin(k + seed);
  return {
    x: { dtype: 'float32', dims: [batch, TOKENS, C], data: x },
    s: { dtype: 'float32', dims: [batch, TOKENS, K], data: s },
    v: { dtype: 'float32', dims: [batch, K, 3], data: v },
  };
}
