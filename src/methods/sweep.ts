// Sweeps for the papers' tables: one model, many (method, W/A) runs, each calibrated on the same seeded subset
// and evaluated on the same test images (held in memory once). Returns plain rows; formatting is the report's job.

import type { Model } from '../onnx/ir.js';
import type { Dataset } from '../data/types.js';
import type { Feeds, SessionOptions } from '../runtime/index.js';
import { evaluateClassification } from '../eval/classification.js';
import { getMethod } from './registry.js';

export interface SweepConfig {
  method: string;
  wBits: number;
  aBits: number;
  options?: Record<string, string | boolean>;
  /** label shown in tables (default: the method name) */
  label?: string;
}

export interface SweepRow {
  label: string;
  method: string;
  wBits: number;
  aBits: number;
  top1: number;
  top5: number;
  n: number;
  calibSeconds: number;
}

export function parseBits(spec: string): { wBits: number; aBits: number } {
  const m = /^W(\d+)A(\d+)$/i.exec(spec.trim());
  if (m === null) throw new Error(`bit setting must look like W4A8, got ${spec}`);
  return { wBits: Number(m[1]), aBits: Number(m[2]) };
}

export async function sweepClassifier(
  model: Model,
  calibFeeds: () => AsyncIterable<Feeds>,
  test: Dataset,
  configs: SweepConfig[],
  opts: SessionOptions & { batch?: number; onRun?: (row: SweepRow) => void } = {},
): Promise<{ fp: SweepRow; runs: SweepRow[] }> {
  const evalOpts = { ...opts, batch: opts.batch ?? 128 };
  const fpEval = await evaluateClassification(model, test, evalOpts);
  const fp: SweepRow = {
    label: 'Full precision',
    method: 'fp',
    wBits: 32,
    aBits: 32,
    top1: fpEval.top1,
    top5: fpEval.top5,
    n: fpEval.n,
    calibSeconds: 0,
  };
  opts.onRun?.(fp);
  const runs: SweepRow[] = [];
  for (const c of configs) {
    const result = await getMethod(c.method)(model, calibFeeds, {
      ...opts,
      wBits: c.wBits,
      aBits: c.aBits,
      ...(c.options === undefined ? {} : { options: c.options }),
    });
    const r = await evaluateClassification(result.simulated, test, evalOpts);
    const row: SweepRow = {
      label: c.label ?? c.method,
      method: c.method,
      wBits: c.wBits,
      aBits: c.aBits,
      top1: r.top1,
      top5: r.top5,
      n: r.n,
      calibSeconds: result.calibSeconds,
    };
    runs.push(row);
    opts.onRun?.(row);
  }
  return { fp, runs };
}
