// `quantlens report <dir|json...> --out report.html`: one page over earlier analyses (report folders or
// analysis.json files) and quantization runs (*.quant.json sidecars).

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeMergedReport } from '../report/index.js';
import { usageError } from '../errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, str } from './args.js';
import { print, printJson } from './output.js';

export const reportSpec: CommandSpec = {
  name: 'report',
  summary: 'Merge analyses and quantization runs into one self-contained HTML report.',
  usage: 'quantlens report <dir|analysis.json|x.quant.json...> --out report.html',
  positionals: [1, 1000],
  options: {
    out: { type: 'string', value: 'report.html', help: 'the HTML file to write' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

export function runReport(p: Parsed): void {
  const out = str(p, 'out');
  if (out === undefined) throw usageError('report needs --out report.html');
  mkdirSync(dirname(out), { recursive: true });
  const counts = writeMergedReport(out, p.positionals);
  if (flag(p, 'json')) {
    printJson({ out, ...counts });
    return;
  }
  print(`wrote      ${out} (${counts.analyses} analyses, ${counts.runs} quantization runs)`);
}
