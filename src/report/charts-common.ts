// Charts every model gets: activation ranges across the quantized layers (Q-Diffusion's "ranges across layers"
// figure, useful for any model), a histogram sparkline per tensor, and per-layer sensitivity (single layer and
// accumulated SQNR). Imports d3 scales/shapes and svg.ts.

import { scaleBand, scaleLinear } from 'd3-scale';
import { area, line } from 'd3-shape';
import type { Histogram, SensitivityAnalysis, TensorStats } from '../analysis/types.js';
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

const pct = (t: TensorStats, p: number) => t.percentiles.find((q) => q.p === p)?.value;

/** Min–max bar per activation (thin) with the 0.1–99.9 percentile span (thick); highlighted tensors in orange. */
export function layerRangeChart(acts: readonly TensorStats[], highlight: ReadonlySet<string>): string {
  const base: Box = { ...DEFAULT_BOX, height: 300 };
  const box = highlight.size > 0 ? withLegend(base) : base;
  const keys = acts.map((_, i) => String(i));
  const x = scaleBand<string>()
    .domain(keys)
    .range([box.left, box.width - box.right])
    .padding(0.25);
  const y = scaleLinear()
    .domain([Math.min(0, ...acts.map((a) => a.min)), Math.max(0, ...acts.map((a) => a.max))])
    .nice()
    .range([box.height - box.bottom, box.top]);
  const marks = acts.map((a, i) => {
    const cx = x(String(i))! + x.bandwidth() / 2;
    const lo = pct(a, 0.1) ?? a.min;
    const hi = pct(a, 99.9) ?? a.max;
    const c = highlight.has(a.tensor) ? colour(1) : colour(0);
    const tip = title(
      `${a.uses[0]?.node ?? a.tensor} input ${a.tensor}: min ${num(a.min)}, max ${num(a.max)}, 0.1–99.9%: [${num(lo)}, ${num(hi)}]`,
    );
    return (
      `<g class="mark"><line x1="${f(cx)}" x2="${f(cx)}" y1="${f(y(a.min))}" y2="${f(y(a.max))}" stroke="${c}" stroke-width="1"/>` +
      `<rect x="${f(cx - Math.max(1, x.bandwidth() / 2))}" y="${f(y(hi))}" width="${f(Math.max(2, x.bandwidth()))}" ` +
      `height="${f(Math.max(1, y(lo) - y(hi)))}" fill="${c}">${tip}</rect></g>`
    );
  });
  return (
    open(box, 'Activation ranges across quantized layers (graph order)', 'layer-ranges') +
    axisLeft(y, box, 'value') +
    axisBand(x, box, 'quantized activation (graph order)', (k) => k) +
    marks.join('') +
    (highlight.size > 0
      ? legend(box, [
          { name: 'layer input', colour: colour(0) },
          { name: 'shortcut Concat input', colour: colour(1) },
        ])
      : '') +
    close
  );
}

/** A 120×22 area sparkline of a histogram (linear counts), for table cells. */
export function sparkline(h: Histogram, label: string): string {
  const w = 120;
  const hgt = 22;
  if (h.counts.length === 0) return '';
  const x = scaleLinear()
    .domain([0, h.counts.length])
    .range([1, w - 1]);
  const y = scaleLinear()
    .domain([0, Math.max(...h.counts, 1)])
    .range([hgt - 1, 1]);
  const a = area<number>()
    .x((_, i) => x(i + 0.5))
    .y0(hgt - 1)
    .y1((c) => y(c));
  const pts = h.counts.length === 1 ? [h.counts[0]!, h.counts[0]!] : h.counts;
  return (
    `<svg class="chart spark" data-kind="sparkline" role="img" aria-label="histogram" viewBox="0 0 ${w} ${hgt}" width="${w}" height="${hgt}" xmlns="http://www.w3.org/2000/svg">` +
    `<path class="mark" d="${a(pts) ?? ''}">${title(`${label}: ${h.counts.length} bins from ${num(h.lo)} to ${num(h.lo + h.width * h.counts.length)}`)}</path></svg>`
  );
}

/** Single-layer SQNR (W, A, both) as dots and bars, and the accumulated SQNR as a line, in graph order. */
export function sensitivityChart(s: SensitivityAnalysis): string {
  const box = withLegend({ ...DEFAULT_BOX, height: 300 });
  const layers = s.layers;
  const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
  const values = layers
    .flatMap((l) => [l.sqnrW, l.sqnrA, l.sqnrBoth, l.sqnrAccumulated].map(finite))
    .filter((v) => v !== null);
  const x = scaleLinear()
    .domain([-0.5, Math.max(layers.length - 0.5, 0.5)])
    .range([box.left, box.width - box.right]);
  const y = scaleLinear()
    .domain([Math.min(0, ...values), Math.max(10, ...values)])
    .nice()
    .range([box.height - box.bottom, box.top]);
  const bw = Math.max(2, ((box.width - box.left - box.right) / Math.max(layers.length, 1)) * 0.6);
  const bars = layers.map((l) => {
    const v = finite(l.sqnrBoth) ?? y.domain()[1]!;
    return (
      `<rect class="mark" x="${f(x(l.index) - bw / 2)}" y="${f(y(v))}" width="${f(bw)}" height="${f(Math.max(1, y(y.domain()[0]!) - y(v)))}" fill="${colour(0)}" opacity="0.75">` +
      `${title(`${l.node}: SQNR W ${num(l.sqnrW, 1)} dB, A ${num(l.sqnrA, 1)} dB, both ${num(l.sqnrBoth, 1)} dB; accumulated ${num(l.sqnrAccumulated, 1)} dB`)}</rect>`
    );
  });
  const dots = (key: 'sqnrW' | 'sqnrA', c: string) =>
    layers
      .filter((l) => finite(l[key]) !== null)
      .map((l) => `<circle class="mark" cx="${f(x(l.index))}" cy="${f(y(l[key]!))}" r="2.5" fill="${c}"/>`)
      .join('');
  const acc = line<(typeof layers)[number]>()
    .defined((l) => finite(l.sqnrAccumulated) !== null)
    .x((l) => x(l.index))
    .y((l) => y(l.sqnrAccumulated));
  return (
    open(box, `Per-layer sensitivity at W${s.wBits}/A${s.aBits} (${s.method}): output SQNR`, 'sensitivity') +
    axisLeft(y, box, 'SQNR (dB), higher is better') +
    axisBottom(x, box, 'layer (graph order)', 10, (v) => (Number.isInteger(v) ? String(v) : '')) +
    bars.join('') +
    dots('sqnrW', colour(2)) +
    dots('sqnrA', colour(4)) +
    `<path class="mark line" d="${acc(layers) ?? ''}" stroke="${colour(1)}"/>` +
    legend(box, [
      { name: 'this layer only (W+A)', colour: colour(0) },
      { name: 'weights only', colour: colour(2) },
      { name: 'activations only', colour: colour(4) },
      { name: 'accumulated (layers 0..k)', colour: colour(1) },
    ]) +
    close
  );
}
