// Bad calibration data through `quantize`, end to end: each case has a defined behaviour, a clear one-line error
// or a documented guard (docs/reliability.md, "Data"). Unit-level checks of the same guards live in src/data.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpz } from '../data/npz.js';
import { getMethod } from '../methods/registry.js';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { writeModel } from '../onnx/io/index.js';
import type { Model } from '../onnx/ir.js';
import { toFloat32 } from '../onnx/tensor.js';
import type { UniformParams } from '../quant/qparams.js';
import { Session } from '../runtime/index.js';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';
import type { HostTensor } from '../util/host-tensor.js';

const root = mkdtempSync(join(tmpdir(), 'ql-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const at = (...p: string[]) => join(root, ...p);

/** x [batch, 4] -> Log -> MatMul(w [4, 3]): weight column 0 is constant 0.5, column 1 all zeros. */
function logMlp(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 4]);
  const w = b.init('w', Float32Array.of(0.5, 0, -1, 0.5, 0, 0.3, 0.5, 0, 2, 0.5, 0, -0.7), [4, 3]);
  b.output(b.op('MatMul', [b.op('Log', [x], {}, { name: 'log' }), w]), 'float32', ['batch', 3]);
  return makeModel(b.graph);
}

/** x [batch, 1, 8, 8] -> Conv(w [2, 1, 3, 3]): a one-channel image model. */
function greyConv(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 1, 8, 8]);
  const w = b.init(
    'w',
    Float32Array.from({ length: 18 }, (_, i) => (i % 5) - 2),
    [2, 1, 3, 3],
  );
  b.output(b.op('Conv', [x, w]), 'float32', ['batch', 2, 6, 6]);
  return makeModel(b.graph);
}

const f32 = (dims: number[], f: (i: number) => number): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});

async function png(path: string, w: number, h: number, channels: 1 | 3 | 4, seed: number): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const px = Buffer.from(Array.from({ length: w * h * channels }, (_, i) => (i * 37 + seed * 11) % 256));
  const s = sharp(px, { raw: { width: w, height: h, channels } });
  await (channels === 1 ? s.toColourspace('b-w') : s).png().toFile(path);
}

const quantize = (model: string, data: string, calib: number, extra: string[] = []) =>
  runCli(['quantize', model, '--data', data, '--calib', String(calib), '--out', at('out', 'q.onnx'), ...extra]);

beforeAll(async () => {
  writeModel(logMlp(), at('mlp.onnx'));
  writeModel(greyConv(), at('grey.onnx'));
  // Unbalanced, mixed-format ImageFolder: 1 RGBA PNG, 6 grey PNGs, 6 RGB JPEGs, of three different sizes.
  await png(at('unbalanced', 'a', '0.png'), 20, 20, 4, 0);
  for (let i = 0; i < 6; i++) await png(at('unbalanced', 'b', `${i}.png`), 24, 20, 1, i);
  for (let i = 0; i < 6; i++) {
    mkdirSync(at('unbalanced', 'c'), { recursive: true });
    const px = Buffer.from(Array.from({ length: 18 * 18 * 3 }, (_, k) => (k * 13 + i) % 256));
    await sharp(px, { raw: { width: 18, height: 18, channels: 3 } })
      .jpeg()
      .toFile(at('unbalanced', 'c', `${i}.jpg`));
  }
});

describe('calibration data guards, through quantize', () => {
  it('NaN in an NPZ array: the error names the array and the index', () => {
    writeNpz(at('nan.npz'), new Map([['x', f32([4, 4], (i) => (i === 6 ? NaN : 1 + i))]]));
    expect(expectOneLineError(quantize(at('mlp.onnx'), at('nan.npz'), 4))).toMatch(
      /'x'.*non-finite value \(NaN\) at index \[1, 2\]/,
    );
  });

  it('NaN produced by the model during calibration: the error names the tensor', () => {
    // Log of a negative input is NaN: the data is clean, the activation is not.
    writeNpz(at('neg.npz'), new Map([['x', f32([4, 4], (i) => (i === 9 ? -1 : 1 + i))]]));
    expect(expectOneLineError(quantize(at('mlp.onnx'), at('neg.npz'), 4))).toMatch(
      /activation log_out has a non-finite value \(NaN\) at index \[2, 1\]/,
    );
  });

  it('constant channels and a constant activation give finite scales and reproduce the constants', async () => {
    const model = logMlp();
    const feeds = { x: f32([8, 4], () => 2) }; // Log(x) is the constant ln 2
    for (const method of ['minmax', 'percentile', 'mse-quantile', 'mse-range']) {
      const r = await getMethod(method)(
        model,
        async function* () {
          yield feeds;
        },
        { wBits: 8, aBits: 8, threads: 1 },
      );
      for (const t of r.plan.targets) {
        const p = t.params as UniformParams;
        for (const v of [...p.scale, ...p.zeroPoint]) expect(Number.isFinite(v), `${method} ${t.key}`).toBe(true);
        expect(Math.min(...p.scale), `${method} ${t.key}`).toBeGreaterThan(0);
      }
      const wq = r.simulated.graph.initializers.get('w__fq')!;
      const w = toFloat32(wq);
      const scale = (r.plan.targets.find((t) => t.key === 'w')!.params as UniformParams).scale;
      for (let row = 0; row < 4; row++) {
        expect(Math.abs(w[row * 3]! - 0.5), method).toBeLessThanOrEqual(scale[0]! / 2 + 1e-7);
        expect(w[row * 3 + 1], method).toBe(0);
      }
      const s = await Session.create(r.simulated, { threads: 1 });
      const y = Object.values(await s.run(feeds))[0]!;
      await s.release();
      expect((y.data as Float32Array).every(Number.isFinite), method).toBe(true);
    }
  });

  it('an empty ImageFolder, and a class folder with no images, are refused', () => {
    mkdirSync(at('empty', 'a'), { recursive: true });
    mkdirSync(at('empty', 'b'), { recursive: true });
    writeFileSync(at('empty', 'b', 'readme.txt'), 'no images here');
    expect(expectOneLineError(quantize(fixturePath('tiny-deit-op17.onnx'), at('empty'), 1))).toMatch(
      /empty|no (JPEG\/PNG )?images/,
    );
  });

  it('an unbalanced set (1 image in one class, 6 in others) of RGBA, grey and RGB files of mixed sizes works', () => {
    const r = quantize(fixturePath('tiny-deit-op17.onnx'), at('unbalanced'), 13, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const side = JSON.parse(readFileSync(at('out', 'q.quant.json'), 'utf8')) as { calibration: { n: number } };
    expect(side.calibration.n).toBe(13);
    // --calib larger than the set is an error, not a silent smaller calibration.
    expect(expectOneLineError(quantize(fixturePath('tiny-deit-op17.onnx'), at('unbalanced'), 14))).toMatch(
      /--calib 14 asks for more items than the dataset has \(13\)/,
    );
  });

  it('RGB images into a one-channel model are converted to grey (ITU-R 601 luma)', () => {
    const r = quantize(at('grey.onnx'), at('unbalanced'), 4);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a three-channel NPZ into a one-channel model: the error gives both shapes', () => {
    writeNpz(at('rgb.npz'), new Map([['x', f32([4, 3, 8, 8], (i) => (i % 7) / 7)]]));
    expect(expectOneLineError(quantize(at('grey.onnx'), at('rgb.npz'), 4))).toMatch(
      /model input x expects shape \[batch, 1, 8, 8\], the data gives \[4, 3, 8, 8\]/,
    );
  });

  it('a corrupt image in the calibration subset: the error names the file', async () => {
    await png(at('corrupt', 'a', 'good.png'), 16, 16, 3, 1);
    mkdirSync(at('corrupt', 'b'), { recursive: true });
    writeFileSync(at('corrupt', 'b', 'bad.png'), readFileSync(at('corrupt', 'a', 'good.png')).subarray(0, 60));
    expect(expectOneLineError(quantize(fixturePath('tiny-deit-op17.onnx'), at('corrupt'), 2))).toMatch(
      /cannot decode image .*corrupt\/b\/bad\.png/,
    );
  });
});
