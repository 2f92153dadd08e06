// Public API of report/: turns plain analysis data and quantization sidecars into a self-contained HTML page,
// analysis.json and analysis.md. No runtime, no graph edits; files are written only through util/atomic-write.

export {
  writeReport,
  writeMergedReport,
  loadReportInputs,
  analysisJson,
  isAnalysis,
  type ReportPaths,
} from './write.js';
export { renderPage } from './page.js';
export { renderMarkdown } from './markdown.js';
export { findings } from './findings.js';
export { summarizeSidecar, isSidecar, type RunSummary } from './runs.js';
export { esc } from './escape.js';
