// One analysis as HTML sections: summary, findings, the RepQ-ViT figures, ranges across layers, per-tensor
// statistics, sensitivity, the Q-Diffusion figures. Every model-provided string passes through esc() or the
// table helpers. Imports the chart modules, tables and findings.

import type { Analysis, TensorStats } from '../analysis/types.js';
import { channelRangeChart, softmaxErrorChart, softmaxHistogramChart } from './charts-vit.js';
import { layerRangeChart, sensitivityChart, sparkline } from './charts-common.js';
import { errorAccumulationChart, shortcutChart, timestepBoxChart, timestepDriftChart } from './charts-diffusion.js';
import { esc, num, opt, percent } from './escape.js';
import { findings } from './findings.js';
import { facts, numCell, table, text } from './tables.js';

const h = (level: 2 | 3, title: string, id: string) => `<h${level} id="${esc(id)}">${esc(title)}</h${level}>`;
const p = (s: string) => `<p>${esc(s)}</p>`;
const figure = (svg: string, caption: string) => `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

function summary(a: Analysis, id: string): string {
  const s = a.model.summary;
  const shape = (v: { name: string; dtype: string; shape: (number | string)[] | null }) =>
    `${v.name}: ${v.dtype}[${(v.shape ?? []).join(', ')}]`;
  return (
    h(3, 'Model', `${id}-model`) +
    facts([
      ['model', a.model.name],
      ['file', a.model.path],
      ['sha256', a.model.sha256 ?? '–'],
      ['kind', a.model.kind],
      [
        'opset',
        Object.entries(s.opset)
          .map(([d, v]) => `${d === '' ? 'ai.onnx' : d} ${v}`)
          .join(', '),
      ],
      ['producer', s.producer],
      ['parameters', `${s.params.toLocaleString('en-US')} (${num(s.paramBytes / 1e6)} MB)`],
      [
        'nodes',
        `${s.nodes} (${Object.entries(s.opCounts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
      ],
      ['inputs', s.inputs.map(shape).join('; ')],
      ['outputs', s.outputs.map(shape).join('; ')],
      [
        'calibration',
        `${a.settings.calibItems} items of ${a.settings.data} in ${a.settings.calibBatches} batch${a.settings.calibBatches === 1 ? '' : 'es'} (seed ${a.settings.seed})`,
      ],
      ['quantization', `W${a.settings.wBits}/A${a.settings.aBits}, ${a.settings.method} observers`],
      ['versions', `quantlens ${a.quantlens}, onnxruntime ${a.onnxruntime}`],
      [
        'time',
        `statistics ${num(a.seconds.stats, 1)} s, sensitivity ${num(a.seconds.sensitivity, 1)} s, total ${num(a.seconds.total, 1)} s`,
      ],
    ])
  );
}

function layerNorms(a: Analysis, id: string): string {
  if (a.layerNorms.length === 0) return '';
  const rows = a.layerNorms.map((l) => [
    text(l.node),
    text(l.kind),
    numCell(String(l.channels), l.channels),
    numCell(num(l.variation), l.variation),
    numCell(num(l.maxRange), l.maxRange),
    numCell(num(l.medianRange), l.medianRange),
    numCell(String(l.widestChannel), l.widestChannel),
    numCell(opt(l.gammaRatio), l.gammaRatio),
    numCell(num(l.layerwiseMse), l.layerwiseMse),
    numCell(num(l.channelwiseMse), l.channelwiseMse),
    text(l.consumers.join(', ')),
  ]);
  return (
    h(3, 'Post-LayerNorm channel ranges (RepQ-ViT figure 1)', `${id}-ln`) +
    p(
      `Per channel: min and max over every token of the calibration data. Variation = largest channel range / median channel range. MSE: min-max fake quantization at ${a.settings.aBits} bits, per tensor vs per channel, on the first batch.`,
    ) +
    table(
      [
        'LayerNorm',
        'form',
        'channels',
        'variation ×',
        'max range',
        'median range',
        'widest channel',
        'γ max/median',
        'MSE per tensor',
        'MSE per channel',
        'feeds',
      ],
      rows,
      { id: `${id}-ln-table` },
    ) +
    `<div class="grid">${a.layerNorms.map((l) => figure(channelRangeChart(l), `${l.node}: ${l.channels} channels`)).join('')}</div>`
  );
}

function softmax(a: Analysis, id: string): string {
  if (a.softmax.length === 0) return '';
  const bitsList = [...new Set(a.softmax.flatMap((s) => s.errors.map((e) => e.bits)))];
  const qs = ['uniform-minmax', 'uniform-mse', 'log2', 'logsqrt2'];
  const errCols = bitsList.flatMap((b) => qs.map((q) => `${b}b ${q}`));
  const rows = a.softmax.map((s) => [
    text(s.node),
    numCell(num(s.max), s.max),
    ...s.shareBelow.map((b) => numCell(percent(b.share), b.share)),
    numCell(percent(s.massBelow1e3), s.massBelow1e3),
    numCell(opt(s.powerLawSlope), s.powerLawSlope),
    ...bitsList.flatMap((b) =>
      qs.map((q) => {
        const e = s.errors.find((x) => x.bits === b && x.quantizer === q);
        return numCell(opt(e?.mse), e?.mse);
      }),
    ),
  ]);
  const thresholds = a.softmax[0]!.shareBelow.map((b) => `< ${num(b.threshold)}`);
  return (
    h(3, 'Post-Softmax distribution (RepQ-ViT)', `${id}-softmax`) +
    figure(
      softmaxHistogramChart(a.softmax),
      'Share of post-Softmax values per quarter-decade; a straight falling line is a power law.',
    ) +
    figure(
      softmaxErrorChart(a.softmax),
      'Mean fake-quant MSE over all Softmax outputs, calibrated with the methods\u2019 observers' +
        (a.softmax.some((s) => s.errorValues < s.count)
          ? ` (on an evenly strided sample of ${a.softmax.reduce((n, s) => n + s.errorValues, 0).toLocaleString('en-US')} of ${a.softmax.reduce((n, s) => n + s.count, 0).toLocaleString('en-US')} values).`
          : ', on every value.'),
    ) +
    table(['Softmax', 'max', ...thresholds, 'mass < 0.001', 'log-log slope', ...errCols], rows, {
      id: `${id}-sm-table`,
    })
  );
}

function tensorRows(ts: readonly TensorStats[]) {
  return ts.map((t) => {
    const pc = (q: number) => t.percentiles.find((x) => x.p === q);
    return [
      text(t.uses[0]?.node ?? ''),
      text(t.tensor),
      text(t.role),
      text(`[${t.shape.join(', ')}]`),
      numCell(num(t.min), t.min),
      numCell(num(t.max), t.max),
      ...[0.1, 1, 50, 99, 99.9, 99.99].map((q) => {
        const v = pc(q);
        return numCell(v === undefined ? '–' : `${num(v.value)}${v.exact ? '' : '*'}`, v?.value);
      }),
      numCell(num(t.mean), t.mean),
      numCell(num(t.std), t.std),
      numCell(num(t.kurtosis), t.kurtosis),
      numCell(percent(t.outlierRatio), t.outlierRatio),
      { html: sparkline(t.histogram, t.tensor), sort: null },
    ];
  });
}

function tensors(a: Analysis, id: string): string {
  const acts = a.tensors.filter((t) => t.role === 'activation');
  const shortcutInputs = new Set(
    a.shortcuts.flatMap((s) => acts.filter((t) => t.uses.some((u) => u.node === s.conv)).map((t) => t.tensor)),
  );
  return (
    h(3, 'Quantizable tensors', `${id}-tensors`) +
    (acts.length > 0
      ? figure(
          layerRangeChart(acts, shortcutInputs),
          'Thin line: min–max; bar: 0.1–99.9 percentile span. Hover for names.',
        )
      : '') +
    p(
      'Percentiles marked * are estimated from a 16,384-value sample; others are exact. Outliers: share of values beyond mean ± 6σ. Kurtosis is excess kurtosis (0 for a normal distribution).',
    ) +
    table(
      [
        'layer',
        'tensor',
        'role',
        'shape',
        'min',
        'max',
        'p0.1',
        'p1',
        'p50',
        'p99',
        'p99.9',
        'p99.99',
        'mean',
        'std',
        'kurtosis',
        'outliers',
        'histogram',
      ],
      tensorRows(a.tensors),
      { id: `${id}-tensor-table` },
    )
  );
}

function sensitivity(a: Analysis, id: string): string {
  const s = a.sensitivity;
  if (s === null) return '';
  if (s.layers.length === 0) return h(3, 'Per-layer sensitivity', `${id}-sensitivity`) + p('No quantized layers.');
  const ranked = [...s.layers].sort((x, y) => y.noiseShare - x.noiseShare);
  const rows = ranked.map((l, rank) => [
    numCell(String(rank + 1), rank + 1),
    numCell(String(l.index), l.index),
    text(l.node),
    text(l.opType),
    numCell(
      opt(l.sqnrW, (v) => num(v, 1)),
      l.sqnrW,
    ),
    numCell(
      opt(l.sqnrA, (v) => num(v, 1)),
      l.sqnrA,
    ),
    numCell(num(l.sqnrBoth, 1), l.sqnrBoth),
    numCell(percent(l.noiseShare), l.noiseShare),
    numCell(percent(l.top1Both), l.top1Both),
    numCell(num(l.sqnrAccumulated, 1), l.sqnrAccumulated),
    numCell(percent(l.top1Accumulated), l.top1Accumulated),
  ]);
  return (
    h(3, `Per-layer sensitivity (W${s.wBits}/A${s.aBits})`, `${id}-sensitivity`) +
    p(
      `One calibration (${s.method}) on ${s.calibItems} items; each layer quantized alone (rest FP) and everything up to it (accumulated). SQNR of output ${s.output} vs the FP model on the calibration items` +
        (s.evalItems > 0
          ? `; top-1 on ${s.evalItems} evaluation items (FP ${percent(s.fpTop1)}, all quantized ${percent(s.allTop1)}).`
          : '.'),
    ) +
    figure(
      sensitivityChart(s),
      'Bars: this layer alone; dots: its weights or activations alone; line: layers 0..k quantized.',
    ) +
    table(
      [
        'rank',
        'index',
        'layer',
        'op',
        'SQNR W (dB)',
        'SQNR A (dB)',
        'SQNR W+A (dB)',
        'noise share',
        'top-1 W+A',
        'SQNR accumulated (dB)',
        'top-1 accumulated',
      ],
      rows,
      { id: `${id}-sens-table` },
    )
  );
}

function diffusion(a: Analysis, id: string): string {
  let out = '';
  const ts = a.timesteps;
  if (ts !== null) {
    const rows = [...ts.tensors]
      .sort((x, y) => (y.drift ?? Infinity) - (x.drift ?? Infinity))
      .map((t) => {
        const r = t.max.map((m, i) => m - t.min[i]!);
        return [
          text(t.node),
          text(t.tensor),
          numCell(num(t.drift), t.drift),
          numCell(num(Math.min(...r)), Math.min(...r)),
          numCell(num(Math.max(...r)), Math.max(...r)),
          numCell(num(r[0]), r[0]),
          numCell(num(r.at(-1)), r.at(-1)),
        ];
      });
    out +=
      h(3, 'Ranges across sampler steps (Q-Diffusion)', `${id}-steps`) +
      figure(timestepBoxChart(ts), `${ts.steps.length} steps, ${ts.items.reduce((x, y) => x + y, 0)} items.`) +
      figure(timestepDriftChart(ts), 'Each line: a layer input\u2019s range at each step divided by its mean range.') +
      table(
        [
          'layer',
          'tensor',
          'drift ×',
          'smallest step range',
          'largest step range',
          `range at step ${ts.steps[0]}`,
          `range at step ${ts.steps.at(-1)}`,
        ],
        rows,
        {
          id: `${id}-steps-table`,
        },
      );
  }
  if (a.shortcuts.length > 0) {
    const rows = a.shortcuts.map((s, i) => [
      numCell(`#${i}`, i),
      text(s.conv),
      text(s.concat),
      ...[0, 1].map((k) => {
        const hv = s.halves[k];
        return text(
          hv === undefined ? '–' : `[${num(hv.min)}, ${num(hv.max)}] (${hv.channels ?? '?'} ch)`,
          hv?.range ?? null,
        );
      }),
      numCell(num(s.halfRatio), s.halfRatio),
      numCell(opt(s.neighbourRatio), s.neighbourRatio),
      text(s.neighbours.map((n) => `${n.node} ${num(n.range)}`).join('; ')),
    ]);
    out +=
      h(3, 'Shortcut Concat halves (Q-Diffusion)', `${id}-shortcuts`) +
      figure(
        shortcutChart(a.shortcuts),
        'Per Conv fed by a channel Concat: neighbouring layer input ranges and each half\u2019s range.',
      ) +
      table(
        [
          '#',
          'Conv',
          'Concat',
          'half 0 range',
          'half 1 range',
          'half ratio ×',
          'vs neighbours ×',
          'neighbours (range)',
        ],
        rows,
        {
          id: `${id}-shortcut-table`,
        },
      );
  }
  if (a.errorAccumulation !== null)
    out +=
      h(3, 'Error accumulation over the sampler (Q-Diffusion)', `${id}-accumulation`) +
      figure(
        errorAccumulationChart(a.errorAccumulation),
        `${a.errorAccumulation.label}. Both chains start from the same seeded noise; the quantized chain is fed its own outputs.`,
      );
  return out;
}

export function analysisSection(a: Analysis, id: string): string {
  const list = findings(a);
  const notes = a.notes.length > 0 ? `<ul class="notes">${a.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return (
    `<section class="analysis" id="${esc(id)}">` +
    h(2, `Analysis: ${a.model.name}`, `${id}-title`) +
    (list.length > 0 ? `<ul class="findings">${list.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : '') +
    notes +
    summary(a, id) +
    layerNorms(a, id) +
    softmax(a, id) +
    diffusion(a, id) +
    sensitivity(a, id) +
    tensors(a, id) +
    '</section>'
  );
}
