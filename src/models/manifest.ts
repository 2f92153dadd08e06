// The shipped-model manifest (models/manifest.json, DESIGN.md §3): schema validation and name resolution. The CLI
// accepts a manifest name wherever it accepts a model path.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ioError, modelError } from '../errors.js';
import { packageRoot } from '../version.js';
import type { ModelInfo, PreprocessInfo, SchedulerInfo, Task } from './model-info.js';

/**
 * A stress variant's rescaling (src/models/stress.ts, written by tools/make_stress.py): the same network with
 * heavy-tailed per-channel factors on every post-LayerNorm pair. Its results are reported beside the natural
 * model's (`variantOf`), never instead.
 */
export interface StressSummary {
  seed: number;
  /** post-LayerNorm pairs rescaled */
  norms: number;
  /** outlier channels (factor >= 10) of each rescaled LayerNorm */
  outliersPerNorm: number[];
  maxFactor: number;
  /** median of the per-LayerNorm median factors */
  medianFactor: number;
  /** max abs output difference to the source model on seeded random inputs, and relative to the largest output */
  outputGap: number;
  outputGapRelative: number;
}

export interface ManifestEntry {
  name: string;
  file: string;
  task: Task;
  dataset: string;
  architecture: string;
  params: number;
  opset: number;
  variantOf: string | null;
  input: { name: string; shape: (number | string)[]; layout: string };
  preprocess: PreprocessInfo | null;
  labels: string[] | null;
  scheduler: SchedulerInfo | null;
  metrics: Record<string, number>;
  sha256: string;
  card: string;
  stress?: StressSummary;
}

export interface Manifest {
  schemaVersion: 1;
  models: ManifestEntry[];
}

export const modelsDir = (): string => join(fileURLToPath(packageRoot), 'models');

type Check = (v: unknown, path: string) => string | undefined;
const isStr: Check = (v, p) => (typeof v === 'string' && v !== '' ? undefined : `${p} must be a non-empty string`);
const isNum: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${p} must be a number`);
const isInt: Check = (v, p) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : `${p} must be a non-negative integer`);
const oneOf =
  (...xs: string[]): Check =>
  (v, p) =>
    xs.includes(v as string) ? undefined : `${p} must be one of ${xs.join(', ')}`;
const nullable =
  (c: Check): Check =>
  (v, p) =>
    v === null ? undefined : c(v, p);
const arrayOf =
  (c: Check): Check =>
  (v, p) =>
    Array.isArray(v) ? v.map((x, i) => c(x, `${p}[${i}]`)).find((e) => e !== undefined) : `${p} must be an array`;
const object =
  (fields: Record<string, Check>, optional: string[] = []): Check =>
  (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} must be an object`;
    const o = v as Record<string, unknown>;
    for (const [k, c] of Object.entries(fields)) {
      if (!(k in o)) {
        if (optional.includes(k)) continue;
        return `${p}.${k} is missing`;
      }
      const e = c(o[k], `${p}.${k}`);
      if (e !== undefined) return e;
    }
    return undefined;
  };
const fraction: Check = (v, p) => (typeof v === 'number' && v >= 0 && v <= 1 ? undefined : `${p} must be a fraction in [0, 1]`);

const nonNegative: Check = (v, p) => isNum(v, p) ?? ((v as number) >= 0 ? undefined : `${p} must be >= 0`);

const stressCheck: Check = object({
  seed: isInt,
  norms: isInt,
  outliersPerNorm: arrayOf(isInt),
  maxFactor: nonNegative,
  medianFactor: nonNegative,
  outputGap: nonNegative,
  // The stress command refuses to write a variant whose outputs moved by more than 1e-5 (relative).
  outputGapRelative: (v, p) => nonNegative(v, p) ?? ((v as number) <= 1e-5 ? undefined : `${p} must be <= 1e-5`),
});

const channelsCheck: Check = (v, p) => (v === 1 || v === 3 ? undefined : `${p} must be 1 or 3`);

const entryCheck: Check = (v, p) => {
  const base = object({
    name: isStr,
    file: isStr,
    task: oneOf('classification', 'diffusion', 'features'),
    dataset: oneOf('cifar10', 'fashion-mnist', 'mnist'),
    architecture: isStr,
    params: isInt,
    opset: isInt,
    variantOf: nullable(isStr),
    input: object({ name: isStr, shape: arrayOf((x, q) => (typeof x === 'string' ? undefined : isInt(x, q))), layout: isStr }),
    preprocess: nullable((x, q) => {
      const e = object({ mean: arrayOf(isNum), std: arrayOf(isNum) })(x, q);
      return e ?? channelsCheck((x as Record<string, unknown>).channels, `${q}.channels`);
    }),
    labels: nullable(arrayOf(isStr)),
    scheduler: nullable(
      object({ type: isStr, betaSchedule: isStr, betaStart: isNum, betaEnd: isNum, trainSteps: isInt }),
    ),
    metrics: (x, q) => {
      if (typeof x !== 'object' || x === null) return `${q} must be an object`;
      for (const [k, m] of Object.entries(x)) {
        const e = k === 'top1' || k === 'top5' ? fraction(m, `${q}.${k}`) : isNum(m, `${q}.${k}`);
        if (e !== undefined) return e;
      }
      return undefined;
    },
    sha256: (x, q) => (typeof x === 'string' && /^[0-9a-f]{64}$/.test(x) ? undefined : `${q} must be a sha256 hex digest`),
    card: isStr,
    stress: stressCheck,
  }, ['stress'])(v, p);
  if (base !== undefined) return base;
  const e = v as ManifestEntry;
  if (e.file.includes('..') || e.file.startsWith('/')) return `${p}.file must be a plain path inside models/`;
  if (e.stress !== undefined && e.variantOf === null) return `${p}.variantOf must name the natural model of a stress variant`;
  return undefined;
};

/** Returns the list of problems (empty when valid). */
export function validateManifest(value: unknown): string[] {
  const top = object({ schemaVersion: (v, p) => (v === 1 ? undefined : `${p} must be 1`), models: arrayOf(entryCheck) })(
    value,
    'manifest',
  );
  if (top !== undefined) return [top];
  const names = new Set<string>();
  const problems: string[] = [];
  for (const m of (value as Manifest).models) {
    if (names.has(m.name)) problems.push(`manifest: duplicate model name ${m.name}`);
    names.add(m.name);
  }
  for (const m of (value as Manifest).models)
    if (m.variantOf !== null && !names.has(m.variantOf))
      problems.push(`manifest: ${m.name}.variantOf names no entry (${m.variantOf})`);
  return problems;
}

let cached: Manifest | null | undefined;

/** The shipped manifest, or null when no models are shipped in this installation. */
export function loadManifest(dir = modelsDir()): Manifest | null {
  if (cached !== undefined && dir === modelsDir()) return cached;
  const path = join(dir, 'manifest.json');
  let result: Manifest | null = null;
  if (existsSync(path)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw modelError(`${path} is not valid JSON`);
    }
    const problems = validateManifest(json);
    if (problems.length > 0) throw modelError(`${path}: ${problems[0]}`);
    result = json as Manifest;
  }
  if (dir === modelsDir()) cached = result;
  return result;
}

export function manifestEntry(name: string): ManifestEntry | undefined {
  return loadManifest()?.models.find((m) => m.name === name);
}

export function entryInfo(e: ManifestEntry): ModelInfo {
  const info: ModelInfo = { task: e.task, dataset: e.dataset };
  if (e.preprocess !== null) info.preprocess = e.preprocess;
  if (e.labels !== null) info.labels = e.labels;
  if (e.scheduler !== null) info.scheduler = e.scheduler;
  return info;
}

/** A model argument: an existing path, or a shipped model's name. */
export function resolveModelRef(ref: string): { path: string; entry?: ManifestEntry } {
  if (existsSync(ref)) return { path: ref };
  const entry = manifestEntry(ref);
  if (entry !== undefined) return { path: join(modelsDir(), entry.file), entry };
  const shipped = loadManifest()?.models.map((m) => m.name) ?? [];
  throw ioError(
    `model not found: ${ref}`,
    shipped.length > 0 ? `give a path to an .onnx file or one of: ${shipped.join(', ')}` : 'give a path to an .onnx file',
  );
}
