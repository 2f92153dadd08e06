// The self-contained report page: one HTML file with inline CSS, inline SVG charts and one small inline script
// (sorting tables by their header; everything else, including tooltips via SVG <title>, works without it). A
// Content-Security-Policy allows only that exact script (by hash), no network and no other script, so even an
// escaping bug could not run injected code. Imports node:crypto and the section renderers.

import { createHash } from 'node:crypto';
import type { Analysis } from '../analysis/types.js';
import { esc, num } from './escape.js';
import type { RunSummary } from './runs.js';
import { analysisSection } from './sections.js';
import { numCell, table, text } from './tables.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1400px;padding:0 24px 48px;color:#1b1b1b}
h1{font-size:22px;margin:24px 0 8px}h2{font-size:19px;border-bottom:1px solid #ccc;margin-top:36px}h3{font-size:16px;margin-top:28px}
.findings li{margin:4px 0}.notes{color:#666}
.tw{overflow-x:auto;max-height:640px;overflow-y:auto;border:1px solid #ddd;margin:8px 0}
table{border-collapse:collapse;font-size:12.5px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
table.sortable th{position:sticky;top:0;background:#f6f6f6;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{text-align:right;color:#555;font-weight:normal;position:static;background:none;cursor:auto}
table.facts td{white-space:normal;word-break:break-all}
figure{margin:12px 0}figcaption{color:#555;font-size:12.5px;max-width:640px}
.grid{display:flex;flex-wrap:wrap;gap:8px}
svg.chart{max-width:100%;height:auto;font-size:11px}svg.spark{vertical-align:middle}
svg .ctitle{font-weight:600;font-size:12px}svg .tick line{stroke:#e4e4e4}svg .axis>line{stroke:#333}
svg .alabel{fill:#444}svg path.line{fill:none;stroke-width:1.6}svg path.bars{stroke:#0072B2;fill:none}
svg circle.hot{fill:#D55E00}svg.spark path{fill:#56B4E9;stroke:#0072B2;stroke-width:.6}
svg .mark:hover,svg .mark:hover *{opacity:.65}
nav a{margin-right:12px}
`;

/** Sorts a table by the clicked column, numerically when both data-v values are numbers. */
const SCRIPT = `(function(){
function sortBy(t,i,th){var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir===1?'ascending':'descending');
rows.sort(function(r1,r2){var a=r1.cells[i].getAttribute('data-v'),c=r2.cells[i].getAttribute('data-v');
var x=parseFloat(a),y=parseFloat(c);if(a===''&&c!=='')return 1;if(c===''&&a!=='')return -1;
var d=(!isNaN(x)&&!isNaN(y))?(x<y?-1:x>y?1:0):String(a).localeCompare(String(c));return dir*d;});
rows.forEach(function(r){b.appendChild(r);});}
Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.tabIndex=0;
th.addEventListener('click',function(){sortBy(t,i,th);});
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(t,i,th);}});});});
})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:`;

function comparison(analyses: readonly Analysis[]): string {
  if (analyses.length < 2) return '';
  const rows = analyses.map((a) => [
    text(a.model.name),
    text(a.model.kind),
    text(`W${a.settings.wBits}/A${a.settings.aBits} ${a.settings.method}`),
    numCell(
      num(Math.max(0, ...a.layerNorms.map((l) => l.variation ?? Infinity))),
      Math.max(0, ...a.layerNorms.map((l) => l.variation)),
    ),
    numCell(num(a.sensitivity?.allSqnr ?? null, 1), a.sensitivity?.allSqnr ?? null),
    numCell(
      a.sensitivity?.allTop1 === null || a.sensitivity === null ? '–' : num(a.sensitivity.allTop1 * 100, 2),
      a.sensitivity?.allTop1 ?? null,
    ),
    numCell(
      a.sensitivity?.fpTop1 === null || a.sensitivity === null ? '–' : num(a.sensitivity.fpTop1 * 100, 2),
      a.sensitivity?.fpTop1 ?? null,
    ),
  ]);
  return (
    `<h2 id="compare">Comparison</h2>` +
    table(
      [
        'model',
        'kind',
        'setting',
        'max LN variation ×',
        'all-quantized SQNR (dB)',
        'all-quantized top-1 %',
        'FP top-1 %',
      ],
      rows,
      { id: 'compare-table' },
    )
  );
}

function runsSection(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return '';
  const summary = table(
    ['run', 'method', 'W', 'A', 'model', 'calibration', 'quantizers', 'QDQ export', 'quantlens', 'results'],
    runs.map((r) => [
      text(r.source),
      text(r.method),
      numCell(r.wBits === null ? '–' : String(r.wBits), r.wBits),
      numCell(r.aBits === null ? '–' : String(r.aBits), r.aBits),
      text(r.model),
      text(r.calibration),
      numCell(String(r.quantizers.length), r.quantizers.length),
      text(r.qdq),
      text(r.quantlens),
      text(r.extra.map(([k, v]) => `${k}: ${v}`).join('; ')),
    ]),
    { id: 'runs-table' },
  );
  const details = runs
    .map(
      (r, i) =>
        `<details><summary>${esc(r.source)}: ${r.quantizers.length} quantizers</summary>` +
        table(
          ['key', 'tensor', 'role', 'observer', 'bits', 'granularity', 'kind', 'scale min', 'scale max', 'QDQ'],
          r.quantizers.map((q) => [
            text(q.key),
            text(q.tensor),
            text(q.role),
            text(q.observer),
            numCell(q.bits === null ? '–' : String(q.bits), q.bits),
            text(q.granularity),
            text(q.kind),
            numCell(q.scaleMin === null ? '–' : num(q.scaleMin), q.scaleMin),
            numCell(q.scaleMax === null ? '–' : num(q.scaleMax), q.scaleMax),
            text(q.qdq),
          ]),
          { id: `run-${i}-table` },
        ) +
        '</details>',
    )
    .join('');
  return `<h2 id="runs">Quantization runs</h2>${summary}${details}`;
}

export function renderPage(analyses: readonly Analysis[], runs: readonly RunSummary[] = []): string {
  const titleText =
    analyses.length === 1
      ? `quantlens report: ${analyses[0]!.model.name}`
      : `quantlens report: ${analyses.length} analyses`;
  const nav =
    analyses.map((a, i) => `<a href="#a${i}">${esc(a.model.name)}</a>`).join('') +
    (runs.length > 0 ? '<a href="#runs">runs</a>' : '');
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(titleText)}</title>` +
    `<style>${STYLE}</style></head><body>` +
    `<h1>${esc(titleText)}</h1><nav>${nav}</nav>` +
    comparison(analyses) +
    analyses.map((a, i) => analysisSection(a, `a${i}`)).join('\n') +
    runsSection(runs) +
    `<script>${SCRIPT}</script></body></html>\n`
  );
}
