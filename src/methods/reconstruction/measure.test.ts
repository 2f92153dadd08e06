// The measurement behind docs/diffusion.md's reconstruction numbers (skipped unless QL_RECON_MEASURE is set; about
// a minute on one core): q-diffusion on the tiny UNet at W4A32 (QL_RECON_ABITS to change) with and without BRECQ +
// AdaRound (QL_RECON_ITERS per unit, default 1000; QL_RECON_ACT_ITERS step-size learning iterations, default 0),
// 256 random calibration inputs, the UNet output MSE vs FP on 64 other inputs, and the per-unit table printed.

import { expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { tinyUNetFeeds } from '../../test-support/tiny-unet-feeds.js';
import { runModel } from '../../test-support/repq-vit.js';
import { QDIFF_DEFAULTS, runQDiffusion } from '../q-diffusion/pipeline.js';
import { brecqReconstruction } from '../q-diffusion/reconstruction.js';
import type { BrecqResult } from './brecq.js';
import type { LsqResult } from './lsq.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);

it.skipIf(process.env.QL_RECON_MEASURE === undefined)(
  'measures BRECQ + AdaRound on the tiny UNet',
  async () => {
    const model = readModel(fixturePath('tiny-unet-op17.onnx'));
    const calib = async function* () {
      for (let i = 0; i < 8; i++) yield tinyUNetFeeds(32, i + 1);
    };
    const test = tinyUNetFeeds(64, 99);
    const first = (m: Parameters<typeof runModel>[0]) => runModel(m, test).then((o) => Object.values(o)[0]!);
    const ref = await first(model);
    const mse = (a: Float32Array) => a.reduce((s, v, i) => s + (v - ref[i]!) ** 2, 0) / a.length;
    const settings = { ...QDIFF_DEFAULTS, wBits: 4, aBits: env('QL_RECON_ABITS', 32) };
    const base = await runQDiffusion(model, settings, calib, { threads: 1 });
    const reconstruction = brecqReconstruction({
      iterations: env('QL_RECON_ITERS', 1000),
      activationIterations: env('QL_RECON_ACT_ITERS', 0),
    });
    const start = performance.now();
    const r = await runQDiffusion(model, settings, calib, { threads: 1, reconstruction });
    const seconds = (performance.now() - start) / 1000;
    const rec = (r.extra.qDiffusion as { reconstruction: { weights: BrecqResult; activations?: LsqResult } })
      .reconstruction;
    const rows = rec.weights.units.map((u) =>
      [
        u.unit,
        u.kind,
        u.parameters,
        u.mseNearest.toExponential(3),
        u.mseAdaRound.toExponential(3),
        u.flipped.toFixed(3),
        (u.secondsPerIteration * 1000).toFixed(2),
      ].join('\t'),
    );
    const lsq = (rec.activations?.units ?? []).map((u) =>
      ['lsq', u.unit, u.quantizers, u.lossBefore.toExponential(3), u.lossAfter.toExponential(3)].join('\t'),
    );
    console.log(
      [
        'unit\tkind\tparams\tmse nearest\tmse adaround\tflipped\tms/iter',
        ...rows,
        ...lsq,
        `UNet output MSE vs FP: nearest ${mse(await first(base.simulated)).toExponential(3)}, ` +
          `reconstructed ${mse(await first(r.simulated)).toExponential(3)}; ${seconds.toFixed(1)} s in all`,
      ].join('\n'),
    );
    expect(rec.weights.units.length).toBeGreaterThan(0);
  },
  3_600_000,
);
