// The RepQ-ViT figures: per-channel ranges after a LayerNorm (one vertical bar per channel, min to max, as the
// paper's figure 1) and the post-Softmax distribution on log axes, plus the quantizers' errors on it.
// Imports d3 scales/shapes and svg.ts.

import { scaleBand, scaleLinear, scaleLog } from 'd3-scale';
import { line } from 'd3-shape';
import type { LayerNormAnalysis, SoftmaxAnalysis } from '../analysis/types.js';
import { num } from './escape.js';
import {
  axisBand,
  axisBottom,
  axisLeft,
  close,
  colour,
  DEFAULT_BOX,
  f,
  legend,
  open,
  title,
  withLegend,
  type Box,
} from './svg.js';

export function channelRangeChart(ln: LayerNormAnalysis): string {
  const box: Box = { ...DEFAULT_BOX, height: 240 };
  const lo = Math.min(0, ...ln.channelMin);
  const hi = Math.max(0, ...ln.channelMax);
  const x = scaleLinear()
    .domain([0, Math.max(ln.channels, 1)])
    .range([box.left, box.width - box.right]);
  const y = scaleLinear()
    .domain([lo, hi])
    .nice()
    .range([box.height - box.bottom, box.top]);
  const w = Math.max(1, (x(1) - x(0)) * 0.7);
  // One path for all channels keeps a 768-channel figure small; the five widest get their own tooltips.
  const d = ln.channelMin.map((m, c) => `M${f(x(c + 0.5))} ${f(y(m))}V${f(y(ln.channelMax[c]!))}`).join('');
  const ranges = ln.channelMax.map((m, c) => ({ c, r: m - ln.channelMin[c]! }));
  const widest = [...ranges].sort((a, b) => b.r - a.r).slice(0, 5);
  const marks = widest.map(
    ({ c, r }) =>
      `<circle class="mark hot" cx="${f(x(c + 0.5))}" cy="${f(y(ln.channelMax[c]!))}" r="3">` +
      `${title(`channel ${c}: [${num(ln.channelMin[c])}, ${num(ln.channelMax[c])}], range ${num(r)}`)}</circle>`,
  );
  return (
    open(box, `${ln.node}: channel ranges (variation ${num(ln.variation)}×)`, 'channel-ranges') +
    axisLeft(y, box, 'activation value') +
    axisBottom(x, box, 'channel') +
    `<path class="mark bars" d="${d}" stroke-width="${f(w)}">${title(`${ln.channels} channels, max range ${num(ln.maxRange)}, median ${num(ln.medianRange)}`)}</path>` +
    marks.join('') +
    close
  );
}

export function softmaxHistogramChart(sms: readonly SoftmaxAnalysis[]): string {
  const box = withLegend({ ...DEFAULT_BOX, height: 300 });
  const first = sms[0]!;
  const bins = first.histogram.counts.length;
  const lo = first.histogram.log10Lo;
  const hi = lo + bins / first.histogram.binsPerDecade;
  // From a decade below the smallest populated bin (at least 4 decades shown) up to 1.
  const firstBin = Math.min(
    ...sms.map((s) => s.histogram.counts.findIndex((c) => c > 0)).filter((i) => i >= 0),
    bins - 1,
  );
  const from = Math.max(lo, Math.min(hi - 4, Math.floor(lo + firstBin / first.histogram.binsPerDecade) - 1));
  const x = scaleLinear()
    .domain([from, hi])
    .range([box.left, box.width - box.right]);
  const series = sms.map((s) => {
    const n = Math.max(s.count, 1);
    return s.histogram.counts
      .map((c, i) => ({ x: lo + (i + 0.5) / s.histogram.binsPerDecade, share: c / n }))
      .filter((p) => p.share > 0 && p.x >= from);
  });
  const minShare = Math.min(1e-6, ...series.flat().map((p) => p.share));
  const y = scaleLog()
    .domain([minShare, 1])
    .range([box.height - box.bottom, box.top])
    .clamp(true);
  const path = line<{ x: number; share: number }>()
    .x((p) => x(p.x))
    .y((p) => y(p.share));
  const marks = series.map((pts, i) => {
    const s = sms[i]!;
    const dots = pts
      .map(
        (p) =>
          `<circle class="mark" cx="${f(x(p.x))}" cy="${f(y(p.share))}" r="2" fill="${colour(i)}">` +
          `${title(`${s.node}: ${num(p.share * 100)}% of values near 10^${num(p.x)}`)}</circle>`,
      )
      .join('');
    return `<path class="mark line" d="${path(pts) ?? ''}" stroke="${colour(i)}"/>${dots}`;
  });
  return (
    open(box, 'Post-Softmax values: share per log10 bin (log-log)', 'softmax-histogram') +
    axisLeft(y, box, 'share of values', 6) +
    axisBottom(x, box, 'log10(probability)') +
    marks.join('') +
    legend(
      box,
      sms.map((s, i) => ({ name: s.node, colour: colour(i) })),
    ) +
    close
  );
}

/** Mean fake-quant MSE over every Softmax, per quantizer and bit width, on a log axis. */
export function softmaxErrorChart(sms: readonly SoftmaxAnalysis[]): string {
  const box: Box = { ...DEFAULT_BOX, height: 260 };
  const groups = new Map<string, { bits: number; quantizer: string; mse: number[] }>();
  for (const s of sms)
    for (const e of s.errors) {
      const key = `${e.bits}-bit ${e.quantizer}`;
      const g = groups.get(key) ?? { bits: e.bits, quantizer: e.quantizer, mse: [] };
      g.mse.push(e.mse);
      groups.set(key, g);
    }
  const rows = [...groups.entries()].map(([key, g]) => ({
    key,
    ...g,
    mean: g.mse.reduce((a, b) => a + b, 0) / g.mse.length,
  }));
  const quantizers = [...new Set(rows.map((r) => r.quantizer))];
  const x = scaleBand<string>()
    .domain(rows.map((r) => r.key))
    .range([box.left, box.width - box.right])
    .padding(0.2);
  const positive = rows.map((r) => r.mean).filter((v) => v > 0);
  const lo = positive.length > 0 ? Math.min(...positive) / 2 : 1e-12;
  const hiV = Math.max(...positive, lo * 10) * 2;
  const y = scaleLog()
    .domain([lo, hiV])
    .range([box.height - box.bottom, box.top])
    .clamp(true);
  const bars = rows.map((r) => {
    const top = y(Math.max(r.mean, lo));
    return (
      `<rect class="mark" x="${f(x(r.key)!)}" y="${f(top)}" width="${f(x.bandwidth())}" ` +
      `height="${f(Math.max(1, box.height - box.bottom - top))}" fill="${colour(quantizers.indexOf(r.quantizer))}">` +
      `${title(`${r.key}: mean MSE ${num(r.mean)} over ${r.mse.length} Softmax`)}</rect>`
    );
  });
  return (
    open(box, 'Post-Softmax quantization error (mean MSE, log scale)', 'softmax-error') +
    axisLeft(y, box, 'MSE', 5) +
    axisBand(x, box, 'quantizer', (k) =>
      k
        .replace(/^(\d+)-bit /, '$1b ')
        .replace('uniform-', 'u-')
        .replace('logsqrt2', 'log√2'),
    ) +
    bars.join('') +
    close
  );
}
