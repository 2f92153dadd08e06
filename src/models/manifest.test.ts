import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest, modelsDir, validateManifest } from './manifest.js';
import { readModel } from '../onnx/io/index.js';
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
    const orphan = { ...manifest!.models[0]!, name: 'x-op13', variantOf: 'x' };
    expect(validateManifest({ schemaVersion: 1, models: [orphan] })[0]).toMatch(/x-op13\.variantOf names no entry/);
    const stress = {
      seed: 0,
      norms: 1,
      outliersPerNorm: [1],
      maxFactor: 20,
      medianFactor: 1.3,
      outputGap: 1e-6,
      outputGapRelative: 1e-3,
    };
    const loud = { ...manifest!.models[0]!, name: 'y', variantOf: manifest!.models[0]!.name, stress };
    expect(validateManifest({ schemaVersion: 1, models: [manifest!.models[0]!, loud] })[0]).toMatch(
      /stress\.outputGapRelative must be <= 1e-5/,
    );
    const natural = { ...manifest!.models[0]!, stress: { ...stress, outputGapRelative: 0 } };
    expect(validateManifest({ schemaVersion: 1, models: [natural] })[0]).toMatch(/variantOf must name the natural/);
  });

  // Issue #3: every shipped classification ViT also ships as a labelled stress variant (opset 17 and 13), which
  // computes the natural model's function, so it lists the natural model's metrics (the evaluation below checks
  // them) and shares its card.
  it('every classification ViT has stress variants pointing to an existing natural model', () => {
    const byName = new Map(manifest!.models.map((m) => [m.name, m]));
    const vits = manifest!.models.filter(
      (m) => m.variantOf === null && m.task === 'classification' && ['deit', 'swin'].includes(m.architecture),
    );
    expect(vits.length).toBeGreaterThan(0);
    for (const base of vits) {
      for (const [name, opset] of [
        [`${base.name}-stress`, 17],
        [`${base.name}-op13-stress`, 13],
      ] as const) {
        const e = byName.get(name);
        expect(e, name).toBeDefined();
        expect(e!.opset, name).toBe(opset);
        expect(e!.stress, name).toBeDefined();
        expect(e!.stress!.norms, name).toBeGreaterThan(0);
        expect(Math.max(...e!.stress!.outliersPerNorm), name).toBeGreaterThan(0);
        expect(e!.sha256).not.toBe(byName.get(opset === 17 ? base.name : `${base.name}-op13`)?.sha256);
      }
    }
    const stressed = manifest!.models.filter((m) => m.stress !== undefined);
    for (const e of stressed) {
      const base = byName.get(e.variantOf ?? '');
      expect(base, `${e.name}.variantOf`).toBeDefined();
      expect(base!.variantOf, `${e.name}: variantOf names the natural model`).toBeNull();
      expect(e.metrics, e.name).toEqual(base!.metrics);
      expect(e.card).toBe(base!.card);
      expect(readFileSync(join(modelsDir(), e.card), 'utf8')).toContain(`## Stress variant (\`${base!.name}-stress\``);
      const meta = readModel(join(modelsDir(), e.file)).metadata.get('quantlens.stress');
      expect(meta, `${e.file} was written by quantlens stress`).toBeDefined();
      expect((JSON.parse(meta!) as { seed: number }).seed).toBe(e.stress!.seed);
    }
  });

  // The card's top-1 is PyTorch's on the full test set; quantlens must reproduce it within 0.2 points. Models
  // whose test set is Fashion-MNIST are checked here (seconds); the CIFAR-10 ones by the models check script.
  // Stress variants list the natural model's metrics, so this checks that their top-1 is the natural one's.
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
