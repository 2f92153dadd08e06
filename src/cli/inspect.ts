// `quantlens inspect <model>`: what a model is made of.

import { summarizeModel } from '../onnx/summary.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag } from './args.js';
import { loadModel } from './common.js';
import { print, printJson } from './output.js';

export const inspectSpec: CommandSpec = {
  name: 'inspect',
  summary: 'Show a model: opsets, inputs and outputs, operator counts, parameters.',
  usage: 'quantlens inspect <model> [--json]',
  positionals: [1, 1],
  options: { json: { type: 'boolean', help: 'print one JSON object' } },
};

const fmtShape = (s: (number | string)[] | null) => (s === null ? '?' : `[${s.join(', ')}]`);

export function runInspect(p: Parsed): void {
  const loaded = loadModel(p.positionals[0]!);
  const s = summarizeModel(loaded.model);
  if (flag(p, 'json')) {
    printJson({ model: loaded.path, ...s, ...(Object.keys(loaded.info).length > 0 ? { info: loaded.info } : {}) });
    return;
  }
  print(`model      ${loaded.path}`);
  print(
    `opset      ${Object.entries(s.opset)
      .map(([d, v]) => `${d === '' ? 'ai.onnx' : d} ${v}`)
      .join(', ')}`,
  );
  print(`producer   ${s.producer || '(unknown)'}  (IR version ${s.irVersion})`);
  for (const i of s.inputs) print(`input      ${i.name}  ${i.dtype} ${fmtShape(i.shape)}`);
  for (const o of s.outputs) print(`output     ${o.name}  ${o.dtype} ${fmtShape(o.shape)}`);
  print(
    `params     ${s.params.toLocaleString('en-US')} (${(s.paramBytes / 1e6).toFixed(2)} MB; ${Object.entries(
      s.initializerDtypes,
    )
      .map(([d, n]) => `${n} ${d}`)
      .join(', ')})`,
  );
  print(`nodes      ${s.nodes}`);
  const ops = Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]);
  print(`ops        ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if (loaded.info.task !== undefined)
    print(`task       ${loaded.info.task}${loaded.info.dataset ? ` (${loaded.info.dataset})` : ''}`);
}
