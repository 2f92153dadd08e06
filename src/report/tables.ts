// HTML tables with sortable columns: every cell carries its sort value in data-v, so the page's small inline
// script sorts numerically without parsing formatted text (and the table reads fine with scripts off).
// Cell content is either escaped text or markup this module's callers built from escaped parts.

import { esc, sortKey } from './escape.js';

export interface Cell {
  /** escaped text or trusted markup (use `text()` for anything from a model) */
  html: string;
  sort?: number | string | null;
  cls?: string;
}

export const text = (s: unknown, sort?: number | string | null): Cell => ({
  html: esc(s),
  sort: sort === undefined ? String(s ?? '') : sort,
});

export const numCell = (formatted: string, value: number | null | undefined): Cell => ({
  html: esc(formatted),
  sort: value ?? null,
  cls: 'n',
});

export function table(headers: string[], rows: Cell[][], opts: { id?: string; caption?: string } = {}): string {
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r
          .map(
            (c) =>
              `<td${c.cls === undefined ? '' : ` class="${c.cls}"`} data-v="${esc(sortKey(c.sort))}">${c.html}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('\n');
  const id = opts.id === undefined ? '' : ` id="${esc(opts.id)}"`;
  const caption = opts.caption === undefined ? '' : `<caption>${esc(opts.caption)}</caption>`;
  return `<div class="tw"><table class="sortable"${id}>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A two-column key/value table (not sortable). */
export function facts(rows: [string, string][]): string {
  return `<table class="facts"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}
