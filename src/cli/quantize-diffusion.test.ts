// `quantize` on a diffusion UNet: without --data it builds a time step-aware set itself; an NPZ of xs/ts built
// from the same trajectories calibrates to the very same bytes; q-diffusion splits the decoder shortcuts with a
// quantizer per half. Small sizes (10 steps, 2 kept x 4) keep it fast.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz, writeNpz } from '../data/npz.js';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

process.env.QUANTLENS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'ql-cache-'));
const tmp = () => mkdtempSync(join(tmpdir(), 'ql-qd-'));
const unet = fixturePath('tiny-unet-op17.onnx');
const small = ['--steps', '10', '--kept', '2', '--per-step', '4'];

interface Quantizer {
  key: string;
  tensor: string;
  role: string;
  tags: string[];
  params: { scale: number[] };
}
interface Sidecar {
  method: string;
  calibration: Record<string, unknown>;
  extra?: { qDiffusion: { reconstruction: { applied: boolean }; shortcutSplit: { splits: unknown[] } } };
  quantizers: Quantizer[];
}
const sidecar = (out: string) => JSON.parse(readFileSync(out.replace(/\.onnx$/, '.quant.json'), 'utf8')) as Sidecar;

describe('quantlens quantize <unet>', () => {
  it('builds a time step-aware set without --data; q-diffusion gives each shortcut half its own quantizers', () => {
    const out = join(tmp(), 'q.onnx');
    const r = runCli(['quantize', unet, '--method', 'q-diffusion', ...small, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/normalization/);
    const j = JSON.parse(r.stdout) as { calibration: Record<string, unknown>; qdqSkipped: unknown };
    expect(j.qdqSkipped).toBeNull();
    expect(j.calibration).toMatchObject({
      n: 8,
      batch: 8,
      batches: 1,
      timestepAware: { steps: 10, keptSteps: [0, 5], timesteps: [800, 158], perStep: 4, built: 8 },
    });
    const s = sidecar(out);
    expect(s.extra!.qDiffusion.reconstruction.applied).toBe(false);
    expect(s.extra!.qDiffusion.shortcutSplit.splits).toHaveLength(4);
    const split = s.quantizers.filter((q) => q.tags.includes('shortcut-split'));
    expect(split.filter((q) => q.role === 'weight')).toHaveLength(8);
    const acts = split.filter((q) => q.role === 'activation');
    expect(acts).toHaveLength(8);
    expect(new Set(acts.map((q) => q.key)).size).toBe(8);
    // The halves of one shortcut see different tensors, so their scales differ.
    for (let i = 0; i < 8; i += 2) expect(acts[i]!.params.scale[0]).not.toBe(acts[i + 1]!.params.scale[0]);
  });

  it('calibrates on an NPZ of xs/ts exactly as on the set it built, and is deterministic (W4A8)', () => {
    const d = tmp();
    const cs = runCli(['calib-set', unet, ...small, '--out', join(d, 'c.npz')]);
    expect(cs.code, cs.stderr).toBe(0);
    const c = readNpz(join(d, 'c.npz'));
    const x = c.get('x')!;
    // Q-Diffusion's layout: stacked per step, float time steps.
    writeNpz(
      join(d, 'xsts.npz'),
      new Map([
        ['xs', { ...x, dims: [2, 4, ...x.dims.slice(1)] }],
        ['ts', { dtype: 'float32', dims: [2, 4], data: Float32Array.from(c.get('t')!.data as BigInt64Array, Number) }],
      ]),
    );
    const args = ['--method', 'q-diffusion', '--w-bits', '4', '--a-bits', '8'];
    const [built, fromNpz] = ['built', 'npz'].map((n) => join(d, `${n}.onnx`)) as [string, string];
    const r = runCli(['quantize', unet, ...args, ...small, '--out', built]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/built {6}a time step-aware calibration set .*: 2 steps x 4 = 8 samples/);
    const n = runCli(['quantize', unet, ...args, '--data', join(d, 'xsts.npz'), '--out', fromNpz]);
    expect(n.code, n.stderr).toBe(0);
    expect(n.stderr).not.toMatch(/normalization/);
    expect(n.stdout).toMatch(/calibrated on 8 items/);
    // Two processes, each sampling the trajectories itself, write the same bytes: sampling, the seeded order,
    // calibration and export are deterministic, and the xs/ts file is bound exactly like the built set.
    for (const ext of ['.onnx', '.qdq.onnx']) {
      const [a, b] = [built, fromNpz].map((o) => readFileSync(o.replace('.onnx', ext)));
      expect(a!.equals(b!)).toBe(true);
    }
    const [sa, sn] = [built, fromNpz].map(sidecar);
    expect(sn!.quantizers).toEqual(sa!.quantizers);
    expect(sn!.extra).toEqual(sa!.extra);
  });

  it('runs BRECQ + AdaRound with --recon-iters and records it in the sidecar (W4A8)', () => {
    const out = join(tmp(), 'r.onnx');
    const args = ['--method', 'q-diffusion', '--w-bits', '4', '--a-bits', '8', '--recon-iters', '2'];
    const r = runCli(['quantize', unet, ...args, ...small, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rec = sidecar(out).extra!.qDiffusion.reconstruction as unknown as {
      applied: boolean;
      weights: {
        settings: { iterations: number };
        units: { unit: string; mseNearest: number }[];
        activationStepSizes?: string;
      };
    };
    expect(rec.applied).toBe(true);
    expect(rec.weights.settings.iterations).toBe(2);
    expect(rec.weights.units).toHaveLength(18);
    expect(rec.weights.activationStepSizes).toMatch(/not asked for/);
  });

  it('rejects conflicting flags with one line', () => {
    const out = join(tmp(), 'x.onnx');
    const q = (...a: string[]) => runCli(['quantize', unet, '--out', out, ...a]);
    expect(expectOneLineError(q('--kept', '2', '--interval', '5'))).toMatch(/not both/);
    expect(expectOneLineError(q(...small, '--calib', '9'))).toMatch(/--calib 9 is not 2 kept steps x --per-step 4/);
    expect(expectOneLineError(q('--no-split'))).toMatch(/--no-split applies to --method q-diffusion only/);
    expect(expectOneLineError(q('--recon'))).toMatch(/--recon applies to --method q-diffusion only/);
    const qd = ['--method', 'q-diffusion', '--no-recon'];
    expect(expectOneLineError(q(...qd, '--recon-iters', '5', '--recon-act-iters', '2'))).toMatch(
      /--no-recon contradicts --recon-iters, --recon-act-iters/,
    );
  });
});
