// analysis.md: the findings and the main tables in GitHub Markdown, for pasting into a model card or an issue.
// Model-provided strings are escaped for Markdown table cells (pipes, backticks, angle brackets), so a node name
// cannot break a table or inject HTML where Markdown renders it. Imports findings and formatters.

import type { Analysis } from '../analysis/types.js';
import { num, opt, percent } from './escape.js';
import { dominantLayers, findings } from './findings.js';

/** Safe in a Markdown table cell and as inline text. */
export function md(s: unknown): string {
  return String(s ?? '')
    .replace(/[\\`*_[\]|<>#]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
}

function mdTable(headers: string[], rows: string[][]): string {
  return [
    `| ${headers.map(md).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(a: Analysis): string {
  const out: string[] = [`# quantlens analysis: ${md(a.model.name)}`, ''];
  out.push(
    `Model \`${a.model.path.replace(/`/g, "'")}\` (${a.model.kind}, ${a.model.summary.params.toLocaleString('en-US')} parameters); ` +
      `${a.settings.calibItems} calibration items of ${md(a.settings.data)}; W${a.settings.wBits}/A${a.settings.aBits} ${md(a.settings.method)}; ` +
      `quantlens ${md(a.quantlens)}, onnxruntime ${md(a.onnxruntime)}.`,
    '',
  );
  for (const f of findings(a)) out.push(`- ${md(f)}`);
  for (const n of a.notes) out.push(`- Note: ${md(n)}`);
  if (a.layerNorms.length > 0)
    out.push(
      '',
      '## Post-LayerNorm channel ranges',
      '',
      mdTable(
        [
          'LayerNorm',
          'channels',
          'variation ×',
          'max range',
          'median range',
          'gamma max/median',
          'MSE per tensor',
          'MSE per channel',
        ],
        a.layerNorms.map((l) => [
          md(l.node),
          String(l.channels),
          num(l.variation),
          num(l.maxRange),
          num(l.medianRange),
          opt(l.gammaRatio),
          num(l.layerwiseMse),
          num(l.channelwiseMse),
        ]),
      ),
    );
  if (a.softmax.length > 0)
    out.push(
      '',
      '## Post-Softmax',
      '',
      mdTable(
        [
          'Softmax',
          'share < 1e-3',
          'mass < 1e-3',
          'slope',
          '4b uniform',
          '4b log2',
          '4b log√2',
          '6b uniform',
          '6b log2',
          '6b log√2',
        ],
        a.softmax.map((s) => {
          const e = (q: string, b: number) => opt(s.errors.find((x) => x.quantizer === q && x.bits === b)?.mse);
          return [
            md(s.node),
            percent(s.shareBelow.find((b) => b.threshold === 1e-3)?.share),
            percent(s.massBelow1e3),
            opt(s.powerLawSlope),
            ...[4, 6].flatMap((b) => [e('uniform-minmax', b), e('log2', b), e('logsqrt2', b)]),
          ];
        }),
      ),
    );
  const s = a.sensitivity;
  if (s !== null)
    out.push(
      '',
      `## Sensitivity at W${s.wBits}/A${s.aBits} (${md(s.method)}), ranked by share of output noise`,
      '',
      mdTable(
        ['rank', 'layer', 'SQNR W', 'SQNR A', 'SQNR W+A', 'noise share', 'top-1 W+A', 'SQNR accumulated'],
        dominantLayers(s.layers, s.layers.length).map((l, i) => [
          String(i + 1),
          md(l.node),
          opt(l.sqnrW, (v) => num(v, 1)),
          opt(l.sqnrA, (v) => num(v, 1)),
          num(l.sqnrBoth, 1),
          percent(l.noiseShare),
          percent(l.top1Both),
          num(l.sqnrAccumulated, 1),
        ]),
      ),
    );
  if (a.timesteps !== null) {
    const ts = a.timesteps;
    out.push(
      '',
      `## ${md(ts.input)} per sampler step`,
      '',
      mdTable(
        ['step', 't', 'items', 'min', 'p1', 'median', 'p99', 'max'],
        ts.steps.map((st, i) => [
          String(st),
          ts.t[i] === null ? '–' : String(ts.t[i]),
          String(ts.items[i]),
          num(ts.inputBox.min[i]),
          num(ts.inputBox.p1[i]),
          num(ts.inputBox.p50[i]),
          num(ts.inputBox.p99[i]),
          num(ts.inputBox.max[i]),
        ]),
      ),
    );
  }
  if (a.shortcuts.length > 0)
    out.push(
      '',
      '## Shortcut Concat halves',
      '',
      mdTable(
        ['Conv', 'half 0', 'half 1', 'half ratio ×', 'vs neighbours ×'],
        a.shortcuts.map((x) => [
          md(x.conv),
          ...[0, 1].map((k) =>
            x.halves[k] === undefined ? '–' : `[${num(x.halves[k].min)}, ${num(x.halves[k].max)}]`,
          ),
          num(x.halfRatio),
          opt(x.neighbourRatio),
        ]),
      ),
    );
  if (a.errorAccumulation !== null)
    out.push(
      '',
      `## Error accumulation (${md(a.errorAccumulation.label)})`,
      '',
      mdTable(
        ['step', 'MSE(x_t)'],
        a.errorAccumulation.steps.map((st, i) => [String(st), num(a.errorAccumulation!.mse[i])]),
      ),
    );
  return out.join('\n') + '\n';
}
