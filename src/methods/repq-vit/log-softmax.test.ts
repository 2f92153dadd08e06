// Post-Softmax 'reparam' (log-√2 in its bit-shift log2 form) and 'logsqrt2' (δ·2^(−q/2)) are two computations of
// the same numbers: equal element for element, as op chains, against the TypeScript reference, and end to end.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { readModel } from '../../onnx/io/index.js';
import { emitLog } from '../../quant/fake-quant.js';
import { fakeQuantLogSqrt2, logSqrt2Codes } from '../../quant/log-quantizers.js';
import { dequantLogSqrt2Shift } from '../../quant/log-reparam.js';
import { makeLogParams } from '../../quant/qparams.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { runModel, seededImages } from '../../test-support/repq-vit.js';
import { emitLogSqrt2Shift } from './log-softmax.js';
import { runRepqVit } from './pipeline.js';

describe('the bit-shift form of log-sqrt2', () => {
  it.each([3, 4, 6, 8])(
    'equals the direct form and the reference at %i bits, underflow and saturation included',
    async (bits) => {
      const p = makeLogParams('logsqrt2', bits, 0.37);
      const special = [0, 1e-30, 1e-6, 0.37, 0.5, 1, 0.37 * 2 ** -0.5, 0.37 * 2 ** -0.25, 0.37 * 2 ** -7.75];
      const values = Float32Array.from([
        ...special,
        ...Array.from({ length: 4000 }, (_, i) => ((i * 7919) % 4001) / 4000),
      ]);
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [values.length]);
      b.output(emitLog(b, x, p, 'direct'));
      b.output(emitLogSqrt2Shift(b, x, p, 'shift'));
      const out = Object.values(
        await runModel(makeModel(b.graph, 17), { x: { dtype: 'float32', dims: [values.length], data: values } }),
      );
      const reference = fakeQuantLogSqrt2(values, p);
      const fromCodes = dequantLogSqrt2Shift(logSqrt2Codes(values, p), p);
      expect(Array.from(out[1]!)).toEqual(Array.from(out[0]!));
      // Against the float64 reference, leave out exact ties (codes k + 1/2, placed above on purpose): the graph's
      // float32 Log lands on either side of them. Both graph forms share the code computation, so ties match there.
      const tie = (v: number) => {
        const c = -2 * Math.log2(v / p.scale);
        return Math.abs(c - Math.floor(c) - 0.5) < 1e-4;
      };
      const keep = (a: Float32Array) => Array.from(a).filter((_, i) => !tie(values[i]!));
      expect(keep(out[1]!)).toEqual(keep(reference));
      expect(Array.from(fromCodes)).toEqual(Array.from(reference));
    },
  );
});

describe('post-Softmax ablation', () => {
  it('reparam and logsqrt2 give identical simulated outputs; only reparam records the shift form', async () => {
    const model = readModel(fixturePath('tiny-deit-op17.onnx'));
    const calib = seededImages(model, 8);
    const feeds = async function* () {
      yield calib;
    };
    const run = (postSoftmax: 'reparam' | 'logsqrt2') =>
      runRepqVit(model, { wBits: 4, aBits: 4, postLn: 'reparam', postSoftmax, roundZeroPoint: false }, feeds, {
        threads: 1,
      });
    const [shift, direct] = [await run('reparam'), await run('logsqrt2')];
    const test = seededImages(model, 16, 5);
    const [a, b] = [(await runModel(shift.simulated, test)).logits!, (await runModel(direct.simulated, test)).logits!];
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(shift.simulated.graph.nodes.filter((n) => n.opType === 'Mod')).toHaveLength(2);
    expect(direct.simulated.graph.nodes.filter((n) => n.opType === 'Mod')).toHaveLength(0);
    // The deployable model carries the shift form too (QDQ has no log quantizer) and, ORT optimizations on,
    // computes what the simulation computes, fractional zero-points (emulated) included.
    expect(shift.qdq.graph.nodes.filter((n) => n.opType === 'Mod')).toHaveLength(2);
    expect(shift.qdqReport.emulated.some((e) => /not an integer/.test(e.reason))).toBe(true);
    expect(Array.from((await runModel(shift.qdq, test)).logits!)).toEqual(Array.from(a));
    // The sidecar has the two scales an integer kernel needs.
    const records = (shift.extra.repqVit as { postSoftmaxShiftForm: { delta: number; oddScale: number }[] })
      .postSoftmaxShiftForm;
    expect(records).toHaveLength(2);
    for (const r of records) expect(r.oddScale).toBe(Math.fround(r.delta * Math.fround(Math.SQRT2)));
    expect((direct.extra.repqVit as Record<string, unknown>).postSoftmaxShiftForm).toBeUndefined();
  });
});
