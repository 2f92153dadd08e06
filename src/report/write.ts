// Writing a report folder: report.html, analysis.json and analysis.md, each atomically. `writeReport` is what
// `analyze` and `quantize --report` call; `loadReportInputs` is what `report` uses to merge earlier runs.
// JSON has no ∞ or NaN: they are written as null, and the renderers read null as ∞ where a value may be ∞.
// Imports node:fs, atomic writes and the renderers.

import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { dataError, describeError, ioError } from '../errors.js';
import type { Analysis } from '../analysis/types.js';
import { renderMarkdown } from './markdown.js';
import { renderPage } from './page.js';
import { isSidecar, summarizeSidecar, type RunSummary } from './runs.js';

export interface ReportPaths {
  html: string;
  json: string;
  markdown: string;
}

export function analysisJson(a: Analysis): string {
  return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}

/** Writes `<dir>/report.html`, `<dir>/analysis.json` and `<dir>/analysis.md`; `runs` are parsed sidecars. */
export function writeReport(
  dir: string,
  analysis: Analysis,
  runs: readonly (RunSummary | { doc: unknown; source: string })[] = [],
): ReportPaths {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw ioError(`cannot create ${dir}: ${describeError(e)}`);
  }
  const summaries = runs.map((r) => ('doc' in r ? summarizeSidecar(r.doc, r.source) : r));
  const paths = {
    html: join(dir, 'report.html'),
    json: join(dir, 'analysis.json'),
    markdown: join(dir, 'analysis.md'),
  };
  writeFileAtomic(paths.json, analysisJson(analysis));
  writeFileAtomic(paths.markdown, renderMarkdown(analysis));
  writeFileAtomic(paths.html, renderPage([analysis], summaries));
  return paths;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw ioError(`cannot read ${path}: ${describeError(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw dataError(`${path} is not valid JSON: ${describeError(e)}`);
  }
}

export function isAnalysis(doc: unknown): doc is Analysis {
  const o = doc as Partial<Analysis> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.schemaVersion === 'number' &&
    typeof o.model === 'object' &&
    Array.isArray(o.tensors) &&
    Array.isArray(o.layerNorms)
  );
}

/**
 * Analyses and runs from report folders and JSON files: a folder contributes its analysis.json and every
 * *.quant.json in it; a file is an analysis or a sidecar by its content.
 */
export function loadReportInputs(paths: readonly string[]): { analyses: Analysis[]; runs: RunSummary[] } {
  const analyses: Analysis[] = [];
  const runs: RunSummary[] = [];
  const addFile = (path: string, required: boolean) => {
    const doc = readJson(path);
    if (isAnalysis(doc)) analyses.push(doc);
    else if (isSidecar(doc)) runs.push(summarizeSidecar(doc, path));
    else if (required)
      throw dataError(
        `${path} is neither an analysis.json nor a .quant.json sidecar`,
        'pass report folders, analysis.json or *.quant.json files',
      );
  };
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw ioError(`no such file or folder: ${p}`);
    }
    if (!isDir) {
      addFile(p, true);
      continue;
    }
    const names = readdirSync(p).sort();
    const found = names.filter((n) => n === 'analysis.json' || n.endsWith('.quant.json'));
    if (found.length === 0) throw dataError(`${p} holds no analysis.json or *.quant.json`);
    for (const n of found) addFile(join(p, n), false);
  }
  return { analyses, runs };
}

/** `quantlens report`: one page over everything given. */
export function writeMergedReport(out: string, paths: readonly string[]): { analyses: number; runs: number } {
  const { analyses, runs } = loadReportInputs(paths);
  if (analyses.length === 0 && runs.length === 0) throw dataError('nothing to report');
  writeFileAtomic(out, renderPage(analyses, runs));
  return { analyses: analyses.length, runs: runs.length };
}
