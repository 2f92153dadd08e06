// The headline numbers of an analysis as plain sentences, shared by the HTML page and analysis.md: the report
// must state what the figures show, in numbers. Plain text (callers escape). Imports only types and formatters.

import type { Analysis, LayerSensitivity } from '../analysis/types.js';
import { num, percent } from './escape.js';

const mean = (v: readonly number[]) => (v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length);
const ratio = (a: number, b: number) => (b > 0 ? a / b : Infinity);

/** Layers ranked by their share of the single-layer output noise (largest first). */
export function dominantLayers(layers: readonly LayerSensitivity[], k = 3): LayerSensitivity[] {
  return [...layers].sort((a, b) => b.noiseShare - a.noiseShare).slice(0, k);
}

export function findings(a: Analysis): string[] {
  const out: string[] = [];
  if (a.layerNorms.length > 0) {
    const worst = [...a.layerNorms].sort((x, y) => (y.variation ?? Infinity) - (x.variation ?? Infinity))[0]!;
    const lw = mean(a.layerNorms.map((l) => l.layerwiseMse));
    const cw = mean(a.layerNorms.map((l) => l.channelwiseMse));
    out.push(
      `Post-LayerNorm inter-channel variation (max channel range / median): up to ${num(worst.variation)}× at ${worst.node} ` +
        `(median over ${a.layerNorms.length} LayerNorms ${num(medianOf(a.layerNorms.map((l) => l.variation ?? Infinity)))}×); ` +
        `at ${a.settings.aBits} bits min-max per-tensor MSE is ${num(ratio(lw, cw))}× the per-channel MSE (${num(lw)} vs ${num(cw)}).`,
    );
  }
  if (a.softmax.length > 0) {
    const share = mean(a.softmax.map((s) => s.shareBelow.find((b) => b.threshold === 1e-3)?.share ?? 0));
    const mass = mean(a.softmax.map((s) => s.massBelow1e3));
    const slopes = a.softmax.map((s) => s.powerLawSlope).filter((v): v is number => v !== null);
    const err = (q: string, bits: number) =>
      mean(a.softmax.flatMap((s) => s.errors.filter((e) => e.quantizer === q && e.bits === bits).map((e) => e.mse)));
    out.push(
      `Post-Softmax: ${percent(share)} of attention probabilities are below 1e-3 (mean over ${a.softmax.length} Softmax), ` +
        `carrying ${percent(mass)} of the probability mass` +
        (slopes.length > 0 ? `; log-log density slope ${num(mean(slopes))} (power law)` : '') +
        `. 4-bit MSE: uniform min-max ${num(err('uniform-minmax', 4))}, log2 ${num(err('log2', 4))}, log√2 ${num(err('logsqrt2', 4))}.`,
    );
  }
  const s = a.sensitivity;
  if (s !== null && s.layers.length > 0) {
    const dom = dominantLayers(s.layers)
      .map((l) => `${l.node} (${percent(l.noiseShare)} of the noise, ${num(l.sqnrBoth, 1)} dB alone)`)
      .join(', ');
    const top1 =
      s.allTop1 === null ? '' : `, top-1 ${percent(s.allTop1)} vs FP ${percent(s.fpTop1)} on ${s.evalItems} items`;
    out.push(
      `At W${s.wBits}/A${s.aBits} (${s.method}) with every layer quantized the output SQNR is ${num(s.allSqnr, 1)} dB${top1}. ` +
        `Layers that dominate the error: ${dom}.`,
    );
  }
  const ts = a.timesteps;
  if (ts !== null && ts.steps.length > 0) {
    const b = ts.inputBox;
    const ranges = b.max.map((m, i) => m - b.min[i]!);
    const drifting = [...ts.tensors].sort((x, y) => (y.drift ?? Infinity) - (x.drift ?? Infinity))[0];
    out.push(
      `${ts.input} across ${ts.steps.length} sampler steps: range ${num(ranges[0])} at step ${ts.steps[0]} and ` +
        `${num(ranges.at(-1))} at step ${ts.steps.at(-1)} (largest/smallest per-step range ${num(ratio(Math.max(...ranges), Math.min(...ranges)))}×)` +
        (drifting === undefined
          ? '.'
          : `; the most drifting layer input, ${drifting.node}, varies ${num(drifting.drift)}× in range.`),
    );
  }
  if (a.shortcuts.length > 0) {
    const gap = [...a.shortcuts].sort((x, y) => (y.halfRatio ?? Infinity) - (x.halfRatio ?? Infinity))[0]!;
    const nb = a.shortcuts.map((x) => x.neighbourRatio).filter((v): v is number => v !== null);
    out.push(
      `Shortcut Concats feeding a Conv: ${a.shortcuts.length}; the halves' ranges differ by up to ${num(gap.halfRatio)}× (${gap.conv})` +
        (nb.length > 0
          ? `, and the larger half spans up to ${num(Math.max(...nb))}× the neighbouring layers' median input range.`
          : '.'),
    );
  }
  const e = a.errorAccumulation;
  if (e !== null && e.mse.length > 1)
    out.push(
      `Error accumulation: MSE between FP and quantized x_t is ${num(e.mse[1])} after the first step and ${num(e.mse.at(-1))} at x_0 (${e.label}).`,
    );
  return out;
}

function medianOf(v: readonly number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
