// Every string that reaches the page from a model, a dataset path or a sidecar goes through `esc` (text and
// attribute values alike): node names can hold markup. Numbers go through the formatters, which never emit
// markup. Imports d3-format only.

import { format } from 'd3-format';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and for quoted attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const general = format('.4~g');
const exponent = format('.3~e');
const fixed1 = format('.1f');
const fixed2 = format('.2f');
const pct = format('.2~%');

/** Compact number: 4 significant digits; non-finite and missing values spelled out (JSON turns ∞ into null). */
export function num(v: number | null | undefined, digits?: 1 | 2): string {
  if (v === null || v === undefined) return '∞';
  if (Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (digits === 1) return fixed1(v);
  if (digits === 2) return fixed2(v);
  const m = Math.abs(v);
  return m !== 0 && (m < 1e-3 || m >= 1e6) ? exponent(v) : general(v);
}

/** A value that may legitimately be absent (no weight, no labels): an en dash. */
export function opt(v: number | null | undefined, f: (x: number) => string = (x) => num(x)): string {
  return v === null || v === undefined ? '–' : f(v);
}

export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : Number.isFinite(v) ? pct(v) : 'n/a';
}

/** The value a sortable cell sorts by (numbers; text as is). */
export function sortKey(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  return v;
}
