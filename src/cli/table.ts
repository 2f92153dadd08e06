// `quantlens table <model...>`: the papers' tables from one command. Every (method, W/A) run is calibrated on the
// same seeded subset and evaluated on the same test images; writes Markdown (and JSON beside it).

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { materialize } from '../data/materialize.js';
import { spreadIndices } from '../eval/subset.js';
import { methodNames } from '../methods/registry.js';
import { parseBits, sweepClassifier, type SweepConfig, type SweepRow } from '../methods/sweep.js';
import { paperTable, type TableCell } from '../report/paper-table.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { usageError } from '../errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { calibOptions, openCalibData } from './calib-data.js';
import { flagInfo, loadModel, modelInfoOptions, resolvePreprocess, runtimeOptions, runtimeSettings } from './common.js';
import { openDataArg } from './data-arg.js';
import { printJson, withVersions } from './output.js';

export const tableSpec: CommandSpec = {
  name: 'table',
  summary: "Accuracy of PTQ methods x bit widths x models in the papers' table form (Markdown + JSON).",
  usage: 'quantlens table <model...> --methods a,b --bits W8A8,W4A4 --out results.md',
  positionals: [1, 32],
  options: {
    methods: { type: 'string', value: 'a,b', help: 'methods (method:key=value,... for options)', default: 'minmax' },
    bits: { type: 'string', value: 'W8A8,...', help: 'bit settings', default: 'W8A8,W6A6,W4A8,W4A4' },
    'test-data': { type: 'string', value: 'path', help: "evaluation data (default: the model's dataset, test split)" },
    limit: { type: 'string', value: 'N', help: 'evaluate on N test images spread over the set (default: all)' },
    title: { type: 'string', value: 'text', help: 'heading of the Markdown file' },
    out: { type: 'string', value: 'file.md', help: 'Markdown output (JSON goes beside it)' },
    ...calibOptions,
    ...modelInfoOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print the rows as one JSON object' },
  },
};

function parseMethod(spec: string): { method: string; options: Record<string, string | boolean>; label: string } {
  const [method, rest] = spec.split(':', 2) as [string, string | undefined];
  if (!methodNames().includes(method))
    throw usageError(`unknown method ${method}`, `methods: ${methodNames().join(', ')}`);
  const options: Record<string, string | boolean> = {};
  for (const kv of rest?.split(',') ?? []) {
    const [k, v] = kv.split('=', 2) as [string, string | undefined];
    options[k] = v === undefined ? true : v;
  }
  return { method, options, label: spec };
}

export async function runTable(p: Parsed): Promise<void> {
  const out = str(p, 'out');
  if (out === undefined || !out.endsWith('.md')) throw usageError('table needs --out file.md');
  const methodSpecs = (str(p, 'methods') ?? 'minmax')
    .split(/\s+|;/)
    .flatMap((s) => (s.includes(':') ? [s] : s.split(',')));
  const methods = methodSpecs.filter((s) => s !== '').map(parseMethod);
  let bits: { wBits: number; aBits: number }[];
  try {
    bits = (str(p, 'bits') ?? '').split(',').map(parseBits);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const configs: SweepConfig[] = methods.flatMap((m) =>
    bits.map((b) => ({ method: m.method, options: m.options, label: m.label, ...b })),
  );
  const json = flag(p, 'json');
  const limit = int(p, 'limit', { min: 1 });
  const cells: TableCell[] = [];
  const models: string[] = [];
  const allRows: (SweepRow & { model: string })[] = [];
  for (const ref of p.positionals) {
    const loaded = loadModel(ref, flagInfo(p));
    const testArg = str(p, 'test-data') ?? loaded.info.dataset;
    if (testArg === undefined) throw usageError(`no test data for ${ref}: pass --test-data`);
    const test = await openDataArg(p, testArg, 'test', resolvePreprocess(loaded, json), loaded.info.labels);
    const indices = spreadIndices(test.size, limit);
    const held = await materialize(test, indices === undefined ? {} : { indices });
    const calib = await openCalibData(p, loaded, json);
    const name = loaded.entry?.name ?? ref;
    models.push(name);
    const { fp, runs } = await sweepClassifier(loaded.model, calib.feeds, held, configs, {
      ...runtimeSettings(p),
      onRun: (row) => {
        if (!json)
          process.stderr.write(
            `${name} ${row.label} W${row.wBits}A${row.aBits}: top-1 ${(row.top1 * 100).toFixed(2)}%\n`,
          );
      },
    });
    for (const row of [fp, ...runs]) {
      cells.push({
        model: name,
        label: row.label,
        bits: `${row.wBits}/${row.aBits}`,
        top1: row.top1,
        calibSeconds: row.calibSeconds,
      });
      allRows.push({ ...row, model: name });
    }
  }
  const command = `quantlens table ${process.argv.slice(3).join(' ')}`;
  const md = `# ${str(p, 'title') ?? 'Post-training quantization results'}\n\nProduced by \`${command}\` (calibration: ${int(p, 'calib') ?? 32} images, seed ${int(p, 'seed') ?? 0}; evaluation: ${allRows[0]?.n ?? 0} test images per model).\n\n${paperTable(cells, models)}`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, md);
  writeFileAtomic(
    out.replace(/\.md$/, '.json'),
    JSON.stringify(withVersions({ command, rows: allRows }), null, 1) + '\n',
  );
  if (json) printJson({ rows: allRows, outputs: { markdown: out } });
  else process.stdout.write(md);
}
