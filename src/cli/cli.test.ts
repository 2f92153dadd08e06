import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ql-cli-'));

describe('quantlens CLI basics', () => {
  it('prints its version and help', () => {
    const v = runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const h = runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/inspect/);
    for (const cmd of ['inspect', 'eval']) {
      const c = runCli([cmd, '--help']);
      expect(c.code).toBe(0);
      expect(c.stdout).toMatch(/Usage: quantlens/);
    }
  });

  it('exits 2 on usage errors', () => {
    expect(runCli([]).code).toBe(2);
    const unknown = runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown);
    const extra = runCli(['inspect']);
    expect(extra.code).toBe(2);
    const badFlag = runCli(['inspect', fixturePath('tiny-deit-op17.onnx'), '--nope']);
    expect(badFlag.code).toBe(2);
    expectOneLineError(badFlag);
  });
});

describe('quantlens inspect', () => {
  it('reports the documented JSON keys for a torch export', () => {
    const r = runCli(['inspect', fixturePath('tiny-deit-op17.onnx'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of [
      'schemaVersion',
      'quantlens',
      'onnxruntime',
      'opset',
      'inputs',
      'outputs',
      'opCounts',
      'params',
      'paramBytes',
      'initializerDtypes',
    ])
      expect(j).toHaveProperty(k);
    expect(j.opset).toEqual({ '': 17 });
    expect(j.inputs).toEqual([{ name: 'pixel_values', dtype: 'float32', shape: ['batch', 3, 16, 16] }]);
    expect((j.opCounts as Record<string, number>).LayerNormalization).toBe(5);
    expect(r.stderr).toBe('');
  });

  it('reads models with external data and the opset-13 UNet', () => {
    const ext = runCli(['inspect', fixturePath('tiny-deit-ext/model.onnx'), '--json']);
    expect(ext.code).toBe(0);
    const full = JSON.parse(runCli(['inspect', fixturePath('tiny-deit-op17.onnx'), '--json']).stdout) as {
      params: number;
    };
    expect((JSON.parse(ext.stdout) as { params: number }).params).toBe(full.params);
    const unet = runCli(['inspect', fixturePath('tiny-unet-op13.onnx')]);
    expect(unet.code).toBe(0);
    expect(unet.stdout).toMatch(/input\s+t\s+int64 \[batch\]/);
  });
});

describe('bad models get one clear line', () => {
  it('missing file', () => {
    expect(expectOneLineError(runCli(['inspect', '/nonexistent/model.onnx']))).toMatch(
      /model not found: \/nonexistent/,
    );
  });

  it('not ONNX', () => {
    const d = tmp();
    writeFileSync(join(d, 'notes.onnx'), 'this is not a model, just text\n');
    expect(expectOneLineError(runCli(['inspect', join(d, 'notes.onnx')]))).toMatch(/not an ONNX model/);
  });

  it('truncated protobuf', () => {
    const d = tmp();
    const bytes = readFileSync(fixturePath('tiny-deit-op17.onnx'));
    writeFileSync(join(d, 'cut.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(expectOneLineError(runCli(['inspect', join(d, 'cut.onnx')]))).toMatch(/not an ONNX model|truncated/);
  });

  it('external data pointing outside the model folder', () => {
    const d = tmp();
    const inner = join(d, 'model');
    mkdirSync(inner);
    // Point every location at ../ghts.bin, a real file one level up (same length keeps the protobuf valid).
    const bytes = readFileSync(fixturePath('tiny-deit-ext/model.onnx'));
    const patched = Buffer.from(bytes.toString('latin1').replaceAll('weights.bin', '../ghts.bin'), 'latin1');
    writeFileSync(join(inner, 'model.onnx'), patched);
    copyFileSync(fixturePath('tiny-deit-ext/weights.bin'), join(d, 'ghts.bin'));
    expect(expectOneLineError(runCli(['inspect', join(inner, 'model.onnx')]))).toMatch(
      /\.\..*model folder|outside the model folder/,
    );
  });
});

describe('quantlens eval', () => {
  it('evaluates on Fashion-MNIST IDX files end to end', () => {
    const r = runCli([
      'eval',
      fixturePath('tiny-deit-op13.onnx'),
      '--data',
      '/usr/share/datasets/fashion-mnist',
      '--limit',
      '200',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, number | string>;
    expect(j.task).toBe('classification');
    expect(j.n).toBe(200);
    expect(j.top1).toBeGreaterThanOrEqual(0);
    expect(j.top5).toBeGreaterThanOrEqual(j.top1 as number);
    expect(j.imagesPerSec).toBeGreaterThan(0);
  });

  it('evaluates on the CIFAR-10 test ImageFolder end to end', () => {
    const r = runCli([
      'eval',
      fixturePath('tiny-deit-op17.onnx'),
      '--data',
      'cifar10',
      '--size',
      '16',
      '--limit',
      '128',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { n: number }).n).toBe(128);
  });

  it('CUDA only when asked, with a clear error where this build has none', () => {
    const r = runCli([
      'eval',
      fixturePath('tiny-deit-op17.onnx'),
      '--data',
      '/usr/share/datasets/fashion-mnist',
      '--limit',
      '8',
      '--device',
      'cuda',
    ]);
    expect(expectOneLineError(r)).toMatch(/--device cuda is not available/);
    expect(r.code).toBe(2);
  });

  it('unknown dataset layout', () => {
    const d = tmp();
    writeFileSync(join(d, 'readme.txt'), 'nothing here');
    const msg = expectOneLineError(runCli(['eval', fixturePath('tiny-deit-op17.onnx'), '--data', d]));
    expect(msg).toMatch(/cannot tell the layout/);
  });

  it('an image that will not decode', () => {
    const d = tmp();
    mkdirSync(join(d, 'cat'));
    writeFileSync(join(d, 'cat', 'broken.png'), 'not a png at all');
    const msg = expectOneLineError(
      runCli(['eval', fixturePath('tiny-deit-op17.onnx'), '--data', d, '--labels', 'cat']),
    );
    expect(msg).toMatch(/broken\.png/);
  });

  it('model input shape that does not match the data', () => {
    const msg = expectOneLineError(
      runCli([
        'eval',
        fixturePath('tiny-deit-op17.onnx'),
        '--data',
        '/usr/share/datasets/fashion-mnist',
        '--size',
        '28',
        '--channels',
        '1',
        '--limit',
        '8',
      ]),
    );
    expect(msg).toMatch(/model input pixel_values expects shape \[batch, 3, 16, 16\], the data gives \[8, 1, 28, 28\]/);
  });
});
