// `quantize --method repq-vit` and its ablation switches, through the built CLI.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
const base = (model: string, out: string) => [
  'quantize',
  fixturePath(`${model}.onnx`),
  '--method',
  'repq-vit',
  '--w-bits',
  '4',
  '--a-bits',
  '4',
  '--data',
  FMNIST,
  '--calib',
  '16',
  '--out',
  out,
  '--json',
];

interface Quantizer {
  key: string;
  role: string;
  axis: number | null;
  tags: string[];
  observer: string;
  params: { kind: string; axis?: number | null; zeroPoint?: number[] };
  qdq: string;
}
interface Sidecar {
  method: string;
  quantizers: Quantizer[];
  extra: { repqVit: { postLn: string; reparameterization: { zeroPoint: number }[]; postSoftmaxShiftForm?: unknown[] } };
}

const sidecarOf = (out: string) => JSON.parse(readFileSync(out.replace(/\.onnx$/, '.quant.json'), 'utf8')) as Sidecar;

describe('quantlens quantize --method repq-vit', () => {
  it('reparameterizes the Swin fixture: per-tensor post-LN quantizers, integer z~ with --round-zero-point', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ql-repq-')), 'swin.onnx');
    const r = runCli([...base('tiny-swin-op17', out), '--round-zero-point']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: 'repq-vit', wBits: 4, aBits: 4, qdqSkipped: null });
    const s = sidecarOf(out);
    expect(s.extra.repqVit.postLn).toBe('reparam');
    expect(s.extra.repqVit.reparameterization).toHaveLength(9);
    expect(s.extra.repqVit.reparameterization.every((x) => Number.isInteger(x.zeroPoint))).toBe(true);
    const postLn = s.quantizers.filter((q) => q.tags.includes('post-layernorm'));
    expect(postLn).toHaveLength(9);
    expect(postLn.every((q) => q.params.kind === 'uniform' && q.params.axis === null)).toBe(true);
    const softmax = s.quantizers.filter((q) => q.tags.includes('post-softmax'));
    expect(softmax.every((q) => q.params.kind === 'logsqrt2' && /no QuantizeLinear form/.test(q.qdq))).toBe(true);
    expect(s.extra.repqVit.postSoftmaxShiftForm).toHaveLength(softmax.length);
    // The patch embedding's input is the one 8-bit activation.
    expect(s.quantizers.filter((q) => q.key.endsWith('@8b')).map((q) => q.key)).toEqual(['pixel_values@8b']);
  });

  it('runs the ablations: --post-ln layer --post-softmax log2 on the op13 DeiT', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ql-repq-')), 'deit.onnx');
    const r = runCli([...base('tiny-deit-op13', out), '--post-ln', 'layer', '--post-softmax', 'log2']);
    expect(r.code, r.stderr).toBe(0);
    const s = sidecarOf(out);
    expect(s.extra.repqVit.reparameterization).toHaveLength(0);
    expect(s.quantizers.filter((q) => q.tags.includes('post-layernorm')).every((q) => q.axis === null)).toBe(true);
    expect(s.quantizers.filter((q) => q.tags.includes('post-softmax')).map((q) => q.params.kind)).toEqual([
      'log2',
      'log2',
    ]);
  });

  it('rejects unknown modes, and the switches with other methods, in one line', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ql-repq-')), 'x.onnx');
    expect(expectOneLineError(runCli([...base('tiny-deit-op17', out), '--post-ln', 'row']))).toMatch(
      /--post-ln must be one of layer, channel, reparam/,
    );
    const minmax = base('tiny-deit-op17', out).map((a) => (a === 'repq-vit' ? 'minmax' : a));
    expect(expectOneLineError(runCli([...minmax, '--post-softmax', 'log2']))).toMatch(/--method repq-vit only/);
  });
});
