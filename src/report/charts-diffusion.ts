// The Q-Diffusion figures: x_t per sampler step (box: min, 1st–99th percentile, median, max), every layer
// input's range per step relative to its mean (the drift), the shortcut Concat halves against neighbouring
// layers, and FP-vs-quantized x_t MSE along the steps (error accumulation). Imports d3 and svg.ts.

import { scaleBand, scaleLinear, scaleLog } from 'd3-scale';
import { line } from 'd3-shape';
import type { ErrorAccumulation, ShortcutAnalysis, TimestepAnalysis } from '../analysis/types.js';
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

export function timestepBoxChart(ts: TimestepAnalysis): string {
  const box: Box = { ...DEFAULT_BOX, height: 300 };
  const n = ts.steps.length;
  const b = ts.inputBox;
  const x = scaleLinear()
    .domain([-0.5, n - 0.5])
    .range([box.left, box.width - box.right]);
  const y = scaleLinear()
    .domain([Math.min(...b.min), Math.max(...b.max)])
    .nice()
    .range([box.height - box.bottom, box.top]);
  const w = Math.max(2, ((box.width - box.left - box.right) / n) * 0.6);
  const marks = ts.steps.map((step, i) => {
    const cx = x(i);
    const t = ts.t[i];
    const tip = title(
      `step ${step}${t === null || t === undefined ? '' : ` (t = ${t})`}: min ${num(b.min[i])}, 1% ${num(b.p1[i])}, median ${num(b.p50[i])}, 99% ${num(b.p99[i])}, max ${num(b.max[i])}`,
    );
    return (
      `<g class="mark"><line x1="${f(cx)}" x2="${f(cx)}" y1="${f(y(b.min[i]!))}" y2="${f(y(b.max[i]!))}" stroke="${colour(0)}"/>` +
      `<rect x="${f(cx - w / 2)}" y="${f(y(b.p99[i]!))}" width="${f(w)}" height="${f(Math.max(1, y(b.p1[i]!) - y(b.p99[i]!)))}" fill="${colour(5)}" stroke="${colour(0)}">${tip}</rect>` +
      `<line x1="${f(cx - w / 2)}" x2="${f(cx + w / 2)}" y1="${f(y(b.p50[i]!))}" y2="${f(y(b.p50[i]!))}" stroke="${colour(1)}" stroke-width="2"/></g>`
    );
  });
  const label = (v: number) => (Number.isInteger(v) && ts.steps[v] !== undefined ? String(ts.steps[v]) : '');
  return (
    open(box, `Ranges of ${ts.input} per sampler step (box: 1st–99th percentile)`, 'timestep-box') +
    axisLeft(y, box, `${ts.input} value`) +
    axisBottom(x, box, 'sampler step (0 = noisiest)', Math.min(10, n), label) +
    marks.join('') +
    close
  );
}

/** Range per step divided by the tensor's mean range over steps, for the most drifting tensors. */
export function timestepDriftChart(ts: TimestepAnalysis, top = 8): string {
  const box = withLegend({ ...DEFAULT_BOX, height: 300 });
  const n = ts.steps.length;
  const chosen = [...ts.tensors]
    .map((t, i) => ({ ...t, i }))
    .sort((a, b) => (b.drift ?? Infinity) - (a.drift ?? Infinity))
    .slice(0, top);
  const series = chosen.map((t) => {
    const r = t.max.map((m, k) => m - t.min[k]!);
    const mean = r.reduce((a, v) => a + v, 0) / Math.max(r.length, 1);
    return r.map((v) => (mean > 0 ? v / mean : 1));
  });
  const all = series.flat();
  const x = scaleLinear()
    .domain([0, Math.max(n - 1, 1)])
    .range([box.left, box.width - box.right]);
  const y = scaleLinear()
    .domain([Math.min(0, ...all), Math.max(1.5, ...all)])
    .nice()
    .range([box.height - box.bottom, box.top]);
  const path = line<number>()
    .x((_, k) => x(k))
    .y((v) => y(v));
  const marks = series.map(
    (s, i) =>
      `<path class="mark line" d="${path(s.length === 1 ? [s[0]!, s[0]!] : s) ?? ''}" stroke="${colour(i)}">` +
      `${title(`${chosen[i]!.node} input ${chosen[i]!.tensor}: drift ${num(chosen[i]!.drift)}×`)}</path>`,
  );
  const label = (v: number) => (Number.isInteger(v) && ts.steps[v] !== undefined ? String(ts.steps[v]) : '');
  return (
    open(box, `Layer input range per step / its mean over steps (${chosen.length} most drifting)`, 'timestep-drift') +
    axisLeft(y, box, 'relative range') +
    axisBottom(x, box, 'sampler step', Math.min(10, n), label) +
    marks.join('') +
    legend(
      box,
      chosen.map((t, i) => ({ name: t.node, colour: colour(i) })),
    ) +
    close
  );
}

/** Per shortcut Conv: neighbour input ranges (grey) and each Concat half (colour), log scale. */
export function shortcutChart(sc: readonly ShortcutAnalysis[]): string {
  const box = withLegend({ ...DEFAULT_BOX, height: 300 });
  const keys = sc.map((_, i) => String(i));
  const x = scaleBand<string>()
    .domain(keys)
    .range([box.left, box.width - box.right])
    .padding(0.2);
  const all = sc
    .flatMap((s) => [...s.halves.map((h) => h.range), ...s.neighbours.map((n) => n.range)])
    .filter((v) => v > 0);
  const lo = all.length > 0 ? Math.min(...all) / 2 : 0.5;
  const y = scaleLog()
    .domain([lo, Math.max(...all, lo * 10) * 1.5])
    .range([box.height - box.bottom, box.top])
    .clamp(true);
  const marks = sc.map((s, i) => {
    const bars = [
      ...s.neighbours.map((n) => ({ label: `neighbour ${n.node}`, range: n.range, c: '#999999' })),
      ...s.halves.map((h, k) => ({
        label: `half ${k} (${h.tensor}, [${num(h.min)}, ${num(h.max)}])`,
        range: h.range,
        c: colour(k),
      })),
    ];
    const sub = scaleBand<number>()
      .domain(bars.map((_, k) => k))
      .range([x(String(i))!, x(String(i))! + x.bandwidth()])
      .padding(0.1);
    return bars
      .map((b, k) => {
        const top = y(Math.max(b.range, lo));
        return (
          `<rect class="mark" x="${f(sub(k)!)}" y="${f(top)}" width="${f(sub.bandwidth())}" height="${f(Math.max(1, box.height - box.bottom - top))}" fill="${b.c}">` +
          `${title(`${s.conv}: ${b.label}: range ${num(b.range)}`)}</rect>`
        );
      })
      .join('');
  });
  return (
    open(box, 'Shortcut Concat halves vs neighbouring layer inputs (range, log scale)', 'shortcut') +
    axisLeft(y, box, 'range (max − min)', 5) +
    axisBand(x, box, 'Conv fed by a Concat', (k) => `#${k}`) +
    marks.join('') +
    legend(box, [
      { name: 'neighbouring layer inputs', colour: '#999999' },
      { name: 'first Concat input', colour: colour(0) },
      { name: 'second Concat input', colour: colour(1) },
    ]) +
    close
  );
}

export function errorAccumulationChart(e: ErrorAccumulation): string {
  const box: Box = { ...DEFAULT_BOX, height: 280 };
  const pts = e.steps.map((s, i) => ({ s, v: e.mse[i] ?? 0 }));
  const positive = pts.map((p) => p.v).filter((v) => v > 0);
  const lo = positive.length > 0 ? Math.min(...positive) / 2 : 1e-12;
  const x = scaleLinear()
    .domain([0, Math.max(...e.steps, 1)])
    .range([box.left, box.width - box.right]);
  const y = scaleLog()
    .domain([lo, Math.max(...positive, lo * 10) * 1.5])
    .range([box.height - box.bottom, box.top])
    .clamp(true);
  // Step 0 starts from the same noise (error 0), which a log axis cannot show.
  const path = line<{ s: number; v: number }>()
    .defined((p) => p.v > 0)
    .x((p) => x(p.s))
    .y((p) => y(Math.max(p.v, lo)));
  const dots = pts
    .filter((p) => p.v > 0)
    .map(
      (p) =>
        `<circle class="mark" cx="${f(x(p.s))}" cy="${f(y(Math.max(p.v, lo)))}" r="2" fill="${colour(1)}">${title(`step ${p.s}: MSE ${num(p.v)}`)}</circle>`,
    );
  return (
    open(box, 'FP vs quantized x_t along the sampler (MSE, log scale)', 'error-accumulation') +
    axisLeft(y, box, 'MSE(x_t)', 5) +
    axisBottom(x, box, 'sampler step (last: x_0)') +
    `<path class="mark line" d="${path(pts) ?? ''}" stroke="${colour(1)}"/>` +
    dots.join('') +
    close
  );
}
