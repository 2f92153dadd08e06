import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest, modelsDir, validateManifest } from './manifest.js';
import { runCli } from '../test-support/cli.js';

const manifest = loadManifest();

describe('models/manifest.json', () => {
  it('validates against the schema and every file matches its sha256', () => {
    expect(manifest).not.toBeNull();
    expect(validateManifest(manifest)).toEqual([]);
    for (const m of manifest!.models) {
      const path = join(modelsDir(), m.file);
      expect(existsSync(path), m.file).toBe(true);
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), m.file).toBe(m.sha256);
      const card = readFileSync(join(modelsDir(), m.card), 'utf8');
      // Every card states the measured metrics it is listed with.
      for (const [k, v] of Object.entries(m.metrics)) expect(card, `${m.card} ${k}`).toContain(`${k}: ${v.toFixed(4)}`);
    }
  });

  it('rejects malformed manifests with the field named', () => {
    expect(validateManifest({ schemaVersion: 2, models: [] })[0]).toMatch(/schemaVersion must be 1/);
    const entry = { ...manifest!.models[0]!, metrics: { top1: 92 } };
    expect(validateManifest({ schemaVersion: 1, models: [entry] })[0]).toMatch(/metrics\.top1 must be a fraction/);
    const bad = { ...manifest!.models[0]!, file: '../x.onnx' };
    expect(validateManifest({ schemaVersion: 1, models: [bad] })[0]).toMatch(/file must be a plain path/);
  });

  // The card's top-1 is PyTorch's on the full test set; quantlens must reproduce it within 0.2 points. Models
  // whose test set is Fashion-MNIST are checked here (seconds); the CIFAR-10 ones by the models check script.
  const fmnist = manifest?.models.filter((m) => m.dataset === 'fashion-mnist' && m.metrics.top1 !== undefined) ?? [];
  it.each(fmnist.map((m) => [m.name, m.metrics.top1!] as const))(
    'quantlens eval %s reproduces the card top-1 (%f) on the full test set',
    (name, top1) => {
      const r = runCli(['eval', name, '--data', 'fashion-mnist', '--json'], { timeoutMs: 240_000 });
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { n: number; top1: number };
      expect(j.n).toBe(10000);
      expect(Math.abs(j.top1 - top1)).toBeLessThanOrEqual(0.002);
    },
    240_000,
  );
});
