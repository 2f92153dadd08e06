// The report in a real browser (Debian's chromium, driven by playwright-core): every chart is drawn with script
// on and off, node names full of markup show up as text and run nothing, tables sort; plus the JSON and Markdown
// that travel with the page.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { analyzeModel, type Analysis } from '../analysis/index.js';
import { HOSTILE, HOSTILE_IMG, knownFeeds, knownModel } from '../test-support/analysis-graphs.js';
import { readModel } from '../onnx/io/index.js';
import { modelInputs } from '../runtime/index.js';
import { tensorDataset } from '../data/tensor-dataset.js';
import { DEFAULT_SCHEDULE } from '../diffusion/index.js';
import { planSteps, stepBatches } from '../analysis/step-data.js';
import { randn, rng } from '../quant/test-helpers.js';
import { fixturePath } from '../test-support/fixtures.js';
import type { HostTensor } from '../util/host-tensor.js';
import { writeMergedReport, writeReport } from './write.js';
import { md, renderMarkdown } from './markdown.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`report.test: ${CHROMIUM} is missing, skipping the browser checks (apt-get install chromium)`);

const common = { data: 'generated', seed: 0, wBits: 4, aBits: 4, method: 'minmax' as const, limit: 0, threads: 1 };

async function hostileAnalysis(): Promise<Analysis> {
  return analyzeModel(knownModel(true), {
    ...common,
    model: { name: `evil ${HOSTILE}`, path: `/tmp/${HOSTILE_IMG}.onnx`, sha256: null },
    calib: async function* () {
      yield { feeds: knownFeeds(3) };
    },
  });
}

async function unetAnalysis(): Promise<Analysis> {
  const model = readModel(fixturePath('tiny-unet-op17.onnx'));
  const n = 6;
  const arrays = new Map<string, HostTensor>([
    ['x', { dtype: 'float32', dims: [n, 1, 8, 8], data: randn(rng(1), n * 64) }],
    ['t', { dtype: 'int64', dims: [n], data: BigInt64Array.from([900n, 900n, 500n, 500n, 100n, 100n]) }],
    ['step', { dtype: 'int64', dims: [n], data: BigInt64Array.from([0n, 0n, 1n, 1n, 2n, 2n]) }],
  ]);
  const plan = planSteps(arrays, 't', n, 0)!;
  const ds = tensorDataset(arrays, 'calib.npz');
  return analyzeModel(model, {
    ...common,
    aBits: 8,
    model: { name: 'tiny-unet', path: 'tiny-unet-op17.onnx', sha256: null },
    calib: () => stepBatches(ds, plan, modelInputs(model), 2),
    sampler: {
      config: { sampler: 'ddim', steps: 3, skip: 'uniform', eta: 0, schedule: DEFAULT_SCHEDULE },
      samples: 2,
      batch: 2,
      seed: 0,
    },
  });
}

const sidecar = {
  schemaVersion: 1,
  quantlens: '0.1.0',
  method: 'minmax',
  wBits: 4,
  aBits: 4,
  source: { model: `m${HOSTILE}.onnx`, sha256: 'x' },
  calibration: { data: 'cifar10', split: 'train', n: 32, seed: 0 },
  qdq: { written: true, skipped: null, emulated: [] },
  extra: { note: HOSTILE_IMG },
  quantizers: [
    {
      key: HOSTILE,
      tensor: HOSTILE_IMG,
      role: 'activation',
      observer: 'minmax',
      bits: 4,
      axis: null,
      qdq: 'qdq',
      params: { kind: 'uniform', scale: [0.5], zeroPoint: [3] },
    },
  ],
};

describe('report files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ql-report-'));
  const [evil, unet] = await Promise.all([hostileAnalysis(), unetAnalysis()]);
  const paths = writeReport(join(dir, 'evil'), evil, [{ doc: sidecar, source: `run${HOSTILE}.quant.json` }]);
  writeReport(join(dir, 'unet'), unet);
  const merged = join(dir, 'merged.html');

  it('writes analysis.json with versions and without NaN/Infinity, and report merges folders', () => {
    const j = JSON.parse(readFileSync(paths.json, 'utf8')) as Record<string, unknown>;
    for (const k of [
      'schemaVersion',
      'quantlens',
      'onnxruntime',
      'model',
      'tensors',
      'layerNorms',
      'softmax',
      'sensitivity',
    ])
      expect(j).toHaveProperty(k);
    expect(writeMergedReport(merged, [join(dir, 'evil'), join(dir, 'unet', 'analysis.json')])).toEqual({
      analyses: 2,
      runs: 0,
    });
    expect(() => writeMergedReport(join(dir, 'x.html'), [paths.markdown])).toThrow(/not valid JSON/);
  });

  it('escapes model strings in Markdown tables', () => {
    expect(md('a|b<c>`d`')).toBe('a\\|b\\<c\\>\\`d\\`');
    const text = renderMarkdown(evil);
    expect(text).not.toContain('<script>');
    expect(text).toContain('\\<script\\>');
  });

  describe.runIf(hasChromium)('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    async function open(
      file: string,
      javaScriptEnabled: boolean,
    ): Promise<{ page: Page; dialogs: string[]; requests: string[] }> {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      const dialogs: string[] = [];
      const requests: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      return { page, dialogs, requests };
    }

    /** Per chart: its kind and how many marks have a non-empty box. */
    const drawn = (page: Page) =>
      page.$$eval('svg.chart', (svgs) =>
        svgs.map((s) => ({
          kind: s.getAttribute('data-kind'),
          marks: Array.from(s.querySelectorAll('.mark')).filter((m) => {
            const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return b.width > 0 || b.height > 0;
          }).length,
        })),
      );

    it('draws every chart, with scripts on and off', async () => {
      for (const js of [true, false]) {
        const { page } = await open(merged, js);
        const charts = await drawn(page);
        const kinds = new Set(charts.map((c) => c.kind));
        for (const k of [
          'channel-ranges',
          'softmax-histogram',
          'softmax-error',
          'layer-ranges',
          'sensitivity',
          'sparkline',
          'timestep-box',
          'timestep-drift',
          'shortcut',
          'error-accumulation',
        ])
          expect(kinds, k).toContain(k);
        expect(charts.filter((c) => c.marks === 0)).toEqual([]);
        await page.context().close();
      }
    });

    it('shows hostile node names as text: nothing runs, nothing is injected, nothing is fetched', async () => {
      const { page, dialogs, requests } = await open(paths.html, true);
      const body = await page.textContent('body');
      expect(body).toContain(HOSTILE);
      expect(body).toContain(HOSTILE_IMG);
      expect(await page.$$eval('script', (s) => s.length)).toBe(1);
      expect(await page.$$eval('img, iframe, object, embed', (s) => s.length)).toBe(0);
      expect(await page.$$eval('svg svg', (s) => s.length)).toBe(0);
      expect(await page.$$eval('[onerror], [onload]', (s) => s.length)).toBe(0);
      await page.waitForTimeout(100);
      expect(dialogs).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(await page.title()).toContain(HOSTILE);
      await page.context().close();
    });

    it('sorts a table by a clicked column', async () => {
      const { page } = await open(paths.html, true);
      const table = '#a0-tensor-table';
      const header = page.locator(`${table} th`, { hasText: /^max$/ });
      const values = () =>
        page.$$eval(
          `${table} tbody tr`,
          (rows, col) => rows.map((r) => Number(r.children[col]!.getAttribute('data-v'))),
          5,
        );
      await header.click();
      const up = await values();
      expect(up).toEqual([...up].sort((x, y) => x - y));
      await header.click();
      const down = await values();
      expect(down).toEqual([...up].sort((x, y) => y - x));
      expect(await header.getAttribute('aria-sort')).toBe('descending');
      await page.context().close();
    });
  });
});
