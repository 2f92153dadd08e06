// Post-Softmax handling (repq-vit.md §2.2, §4). 'reparam' is the log-√2 quantizer written in its log2 form:
// x̂ = s̃(q)·2^(−ceil(q/2)) with s̃ = δ for even codes and δ·√2 for odd ones, so an integer kernel shifts and keeps
// two partial sums. The codes are the log-√2 codes, and a float32 power-of-two product is exact, so the values
// equal the direct form δ·2^(−q/2) (the 'logsqrt2' chain of fake-quant.ts) bit for bit; the ablation shows both.
// QDQ has no log quantizer: the deployable model carries this op chain, and the sidecar records the codes' two
// scales. Imports the builder, fake-quant types and the log quantizer helpers.

import type { GraphBuilder } from '../../onnx/builder.js';
import { names } from '../../onnx/naming.js';
import type { EmitOverride } from '../../quant/fake-quant.js';
import { logSqrt2ShiftScales } from '../../quant/log-reparam.js';
import type { QuantTarget } from '../../quant/plan.js';
import type { LogParams } from '../../quant/qparams.js';
import { TAG_POST_SOFTMAX } from './targets.js';

function scalar(b: GraphBuilder, base: string, v: number): string {
  return b.init(b.namer.fresh(base), Float32Array.of(v), []);
}

/** The bit-shift form as standard ops: same codes as emitLog, then a parity-selected scale times 2^(−ceil(q/2)). */
export function emitLogSqrt2Shift(b: GraphBuilder, x: string, p: LogParams, base: string): string {
  const levels = 2 ** p.bits;
  const { even, odd } = logSqrt2ShiftScales(p);
  const delta = scalar(b, names.scale(base), p.scale);
  const negK = scalar(b, `${base}__neg_k_over_ln2`, -2 / Math.LN2);
  const lo = scalar(b, `${base}__qmin`, 0);
  const hi = scalar(b, `${base}__qmax`, levels - 1);
  const lv = scalar(b, `${base}__levels`, levels);
  const two = scalar(b, `${base}__two`, 2);
  const zero = scalar(b, `${base}__zero`, 0);
  const evenScale = scalar(b, `${base}__even_scale`, even);
  const oddScale = scalar(b, `${base}__odd_scale`, odd);
  const op = (type: string, inputs: string[], tag: string, attrs: Record<string, number> = {}) =>
    b.op(type, inputs, attrs, { name: names.node(base, tag) });
  const ratio = op('Div', [x, delta], 'div');
  const code = op('Round', [op('Mul', [op('Log', [ratio], 'log'), negK], 'mul_log2')], 'round');
  const under = op('GreaterOrEqual', [code, lv], 'underflow');
  const q = op('Clip', [code, lo, hi], 'clip');
  const parity = op('Mod', [q, two], 'parity', { fmod: 1 });
  // ceil(q/2) = (q + parity)/2, an exact integer; 2^(−n) is exact, so is the product with either scale.
  const shift = op('Div', [op('Add', [q, parity], 'round_up'), two], 'shift');
  const pow = op('Pow', [two, op('Neg', [shift], 'neg_shift')], 'pow');
  const scale = op('Where', [op('Cast', [parity], 'is_odd', { to: 9 }), oddScale, evenScale], 'parity_scale');
  return op('Where', [under, zero, op('Mul', [pow, scale], 'mul_scale')], 'where');
}

/** Emits the shift form for post-Softmax log-√2 targets (the 'reparam' mode); the default chain elsewhere. */
export const shiftFormEmitter: EmitOverride = (b, _g, t, base) =>
  t.tags.includes(TAG_POST_SOFTMAX) && t.params?.kind === 'logsqrt2'
    ? emitLogSqrt2Shift(b, t.tensor, t.params, base)
    : undefined;

/** What an integer kernel needs for one post-Softmax quantizer in the shift form (sidecar `extra`). */
export interface ShiftFormRecord {
  key: string;
  tensor: string;
  bits: number;
  delta: number;
  evenScale: number;
  oddScale: number;
  underflowCode: number;
  decode: string;
}

export function shiftFormRecord(t: QuantTarget): ShiftFormRecord | undefined {
  const p = t.params;
  if (p?.kind !== 'logsqrt2' || !t.tags.includes(TAG_POST_SOFTMAX)) return undefined;
  const { even, odd } = logSqrt2ShiftScales(p);
  return {
    key: t.key,
    tensor: t.tensor,
    bits: p.bits,
    delta: p.scale,
    evenScale: even,
    oddScale: odd,
    underflowCode: 2 ** p.bits,
    decode:
      'q = clip(round(-2*log2(x/delta)), 0, 2^bits - 1), underflowCode when >= 2^bits (value 0); ' +
      'x = (q odd ? oddScale : evenScale) * 2^-ceil(q/2)',
  };
}
