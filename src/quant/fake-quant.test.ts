// The simulated graph must compute exactly the fake-quant arithmetic of src/quant/quantizers.ts on the tensors it
// actually sees: probe each quantizer's input and output in the simulated model and compare with TypeScript.

import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/io/index.js';
import { Prober } from '../runtime/index.js';
import { fixturePath, loadReference } from '../test-support/fixtures.js';
import { calibrateActivations, calibrateWeights } from '../methods/calibrate.js';
import { applyFakeQuant } from './fake-quant.js';
import { planQuantization } from './plan.js';
import { defaultRecipe } from './recipe.js';
import { fakeQuant } from './quantizers.js';
import type { QuantParams } from './qparams.js';

function scaleOf(p: QuantParams): number {
  return p.kind === 'uniform' ? Math.max(...p.scale) : p.scale;
}

describe.each(['tiny-deit-op17', 'tiny-deit-op13'])('fake-quant simulation of %s', (name) => {
  it.each([
    [8, 8],
    [4, 4],
    [6, 6],
  ])('W%iA%i: every quantizer output equals the TypeScript arithmetic on its probed input', async (w, a) => {
    const model = readModel(fixturePath(`${name}.onnx`));
    const ref = loadReference(`${name}.ref.json`);
    const plan = planQuantization(model, defaultRecipe(w, a));
    // Post-Softmax operands get the log-sqrt2 quantizer, as RepQ-ViT does, so its op chain is covered too.
    for (const t of plan.targets) {
      const producer = model.graph.producerOf(t.tensor);
      if (producer?.opType === 'Softmax') t.observer = 'logsqrt2';
    }
    calibrateWeights(model, plan);
    await calibrateActivations(model, plan, [ref.inputs], { threads: 1 });
    const sim = applyFakeQuant(model, plan);
    const acts = plan.targets.filter((t) => t.role === 'activation');
    expect(acts.some((t) => t.params?.kind === 'logsqrt2')).toBe(true);
    // The quantizer output is what the first use now reads.
    const outName = (t: (typeof acts)[number]) => {
      const node = sim.graph.nodes.find((n) => n.name === t.uses[0]!.node)!;
      return node.inputs[t.uses[0]!.input]!;
    };
    const probeNames = acts.flatMap((t) => [t.tensor, outName(t)]);
    const prober = await Prober.create(sim, probeNames, { threads: 1 });
    const got = await prober.run(ref.inputs);
    await prober.release();
    for (const t of acts) {
      const x = got.get(t.tensor)!;
      const y = got.get(outName(t))!.data as Float32Array;
      const expected = fakeQuant(x.data as Float32Array, x.dims, t.params!);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - expected[i]!));
      expect(worst / scaleOf(t.params!), `${t.key} (${t.params!.kind})`).toBeLessThanOrEqual(1e-6);
    }
  });
});
