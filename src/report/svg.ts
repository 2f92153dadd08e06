// SVG building blocks rendered to strings on the server side: a chart frame with axes from d3 scales, so charts
// need no script to show. Every drawn data mark carries class "mark" (the tests count them) and a <title> where
// a tooltip helps. Callers pass escaped text only through `esc`. Imports d3-scale/d3-format and escape.ts.

import type { ScaleLinear, ScaleLogarithmic, ScaleBand, ScaleSymLog } from 'd3-scale';
import { esc, num } from './escape.js';

export interface Box {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const DEFAULT_BOX: Box = { width: 640, height: 280, top: 28, right: 16, bottom: 44, left: 64 };

/** A colour-blind-safe palette (Okabe–Ito), cycled for series. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
export const colour = (i: number) => PALETTE[i % PALETTE.length]!;

type Continuous = ScaleLinear<number, number> | ScaleLogarithmic<number, number> | ScaleSymLog<number, number>;

const tickFormat = (v: number) => num(v);

export function f(v: number): string {
  return Number.isFinite(v) ? (Math.round(v * 100) / 100).toString() : '0';
}

export function title(text: string): string {
  return `<title>${esc(text)}</title>`;
}

/** Opens a chart: responsive SVG with an accessible label and the chart title drawn at the top left. */
export function open(box: Box, label: string, kind: string): string {
  return (
    `<svg class="chart" data-kind="${esc(kind)}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${box.width} ${box.height}" ` +
    `width="${box.width}" height="${box.height}" xmlns="http://www.w3.org/2000/svg">` +
    `<text class="ctitle" x="${box.left}" y="16">${esc(label)}</text>`
  );
}

export const close = '</svg>';

/** Ticks of a scale; on a log scale only powers of ten (the in-between ticks crowd the labels). */
function ticksOf(s: Continuous, count: number): number[] {
  const all = (s.ticks as (n: number) => number[])(count).filter((t) => Number.isFinite(s(t)));
  if (!('base' in s)) return all;
  const decades = all.filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);
  if (decades.length < 2) return all;
  const step = Math.ceil(decades.length / count);
  return decades.filter((_, i) => i % step === 0);
}

export function axisLeft(y: Continuous, box: Box, label: string, count = 5): string {
  const ticks = ticksOf(y, count);
  const rows = ticks.map(
    (t) =>
      `<g class="tick"><line x1="${box.left - 4}" x2="${box.width - box.right}" y1="${f(y(t))}" y2="${f(y(t))}"/>` +
      `<text x="${box.left - 6}" y="${f(y(t))}" dy="0.32em" text-anchor="end">${esc(tickFormat(t))}</text></g>`,
  );
  const mid = (box.top + box.height - box.bottom) / 2;
  return (
    `<g class="axis y">${rows.join('')}<text class="alabel" transform="translate(12 ${f(mid)}) rotate(-90)" ` +
    `text-anchor="middle">${esc(label)}</text></g>`
  );
}

export function axisBottom(
  x: Continuous,
  box: Box,
  label: string,
  count = 8,
  fmt: (v: number) => string = tickFormat,
): string {
  const y0 = box.height - box.bottom;
  const ticks = ticksOf(x, count);
  const rows = ticks.map(
    (t) =>
      `<g class="tick"><line x1="${f(x(t))}" x2="${f(x(t))}" y1="${y0}" y2="${y0 + 4}"/>` +
      `<text x="${f(x(t))}" y="${y0 + 16}" text-anchor="middle">${esc(fmt(t))}</text></g>`,
  );
  return (
    `<g class="axis x"><line x1="${box.left}" x2="${box.width - box.right}" y1="${y0}" y2="${y0}"/>${rows.join('')}` +
    `<text class="alabel" x="${f((box.left + box.width - box.right) / 2)}" y="${box.height - 6}" text-anchor="middle">${esc(label)}</text></g>`
  );
}

/** A band axis: labels only when they fit (every k-th), full names live in the marks' tooltips. */
export function axisBand(x: ScaleBand<string>, box: Box, label: string, labels: (d: string) => string): string {
  const y0 = box.height - box.bottom;
  const domain = x.domain();
  const every = Math.max(1, Math.ceil((domain.length * 40) / (box.width - box.left - box.right)));
  const rows = domain
    .filter((_, i) => i % every === 0)
    .map(
      (d) => `<text x="${f(x(d)! + x.bandwidth() / 2)}" y="${y0 + 14}" text-anchor="middle">${esc(labels(d))}</text>`,
    );
  return (
    `<g class="axis x"><line x1="${box.left}" x2="${box.width - box.right}" y1="${y0}" y2="${y0}"/>${rows.join('')}` +
    `<text class="alabel" x="${f((box.left + box.width - box.right) / 2)}" y="${box.height - 6}" text-anchor="middle">${esc(label)}</text></g>`
  );
}

/** Room on the right for a legend: charts with one are wider by this much. */
export const LEGEND_WIDTH = 190;

export function withLegend(box: Box): Box {
  return { ...box, width: box.width + LEGEND_WIDTH, right: box.right + LEGEND_WIDTH };
}

/** A legend in the right margin (see withLegend); names escaped, long ones shortened, full name in the tooltip. */
export function legend(box: Box, items: { name: string; colour: string }[]): string {
  const maxItems = 12;
  const shown = items.slice(0, maxItems);
  const x = box.width - box.right + 12;
  const rows = shown.map((it, i) => {
    const y = box.top + 4 + i * 14;
    const short = it.name.length > 26 ? `…${it.name.slice(-25)}` : it.name;
    return (
      `<g class="legend-item"><rect x="${x}" y="${y - 8}" width="10" height="10" fill="${it.colour}"/>` +
      `<text x="${x + 14}" y="${y + 1}">${esc(short)}${title(it.name)}</text></g>`
    );
  });
  if (items.length > maxItems)
    rows.push(`<text x="${x}" y="${box.top + 4 + maxItems * 14}">+${items.length - maxItems} more</text>`);
  return `<g class="legend">${rows.join('')}</g>`;
}

/** Short display form of a graph name: its last path segments. */
export function shortName(name: string, max = 22): string {
  if (name.length <= max) return name;
  return `…${name.slice(-(max - 1))}`;
}
