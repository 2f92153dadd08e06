import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from '../test-support/cli.js';
import { fixturePath } from '../test-support/fixtures.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
const base = (out: string) => [
  'quantize',
  fixturePath('tiny-deit-op17.onnx'),
  '--data',
  FMNIST,
  '--calib',
  '16',
  '--out',
  out,
];

describe('quantlens quantize', () => {
  it('writes the simulation, the QDQ export and the sidecar; eval runs on both and compares with the FP model', () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-q-'));
    const out = join(d, 'sub', 'deit.onnx');
    const r = runCli([...base(out), '--w-bits', '8', '--a-bits', '8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ method: 'minmax', wBits: 8, aBits: 8, qdqSkipped: null });
    expect(j.outputs).toEqual({
      model: out,
      qdq: join(d, 'sub', 'deit.qdq.onnx'),
      sidecar: join(d, 'sub', 'deit.quant.json'),
    });
    expect(typeof j.calibSeconds).toBe('number');
    const sidecar = JSON.parse(readFileSync(join(d, 'sub', 'deit.quant.json'), 'utf8')) as {
      quantizers: { params: unknown }[];
    };
    expect(sidecar.quantizers.length).toBe(j.quantizers);
    expect(sidecar.quantizers.every((q) => q.params !== undefined)).toBe(true);
    // The preprocessing travels in the outputs' metadata: eval needs no flags, the FP model does.
    for (const m of [out, join(d, 'sub', 'deit.qdq.onnx')]) {
      const e = runCli([
        'eval',
        m,
        '--data',
        FMNIST,
        '--limit',
        '64',
        '--reference',
        fixturePath('tiny-deit-op17.onnx'),
        '--size',
        '16',
        '--json',
      ]);
      expect(e.code, e.stderr).toBe(0);
      const ej = JSON.parse(e.stdout) as { reference: { sqnrDb: number; top1Agreement: number } };
      expect(ej.reference.sqnrDb).toBeGreaterThan(15);
    }
  });

  it('is deterministic: the same command writes byte-identical models and sidecars', () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-q-'));
    const outs = ['a.onnx', 'b.onnx'].map((n) => join(d, n));
    for (const o of outs)
      expect(runCli([...base(o), '--w-bits', '4', '--a-bits', '8', '--method', 'mse-quantile']).code).toBe(0);
    for (const ext of ['.onnx', '.qdq.onnx']) {
      const [a, b] = outs.map((o) => readFileSync(o.replace('.onnx', ext)));
      expect(a!.equals(b!)).toBe(true);
    }
    const [sa, sb] = outs.map((o) =>
      readFileSync(o.replace('.onnx', '.quant.json'), 'utf8').replaceAll(/"[ab]\.onnx"/g, ''),
    );
    expect(sa).toBe(sb);
    // W4: int4 QuantizeLinear needs opset 21, which the tiny DeiT can be raised to.
    const side = JSON.parse(readFileSync(outs[0]!.replace('.onnx', '.quant.json'), 'utf8')) as {
      qdq: { opset: string };
    };
    expect(side.qdq.opset).toMatch(/raised opset 17 -> 21/);
  });

  it('leaves activations in float with --a-bits 32 and skips QDQ when nothing has a QDQ form', () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-q-'));
    const out = join(d, 'w6.onnx');
    const r = runCli([...base(out), '--w-bits', '6', '--a-bits', '32', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { qdqSkipped: string | null; outputs: { qdq: string | null } };
    expect(j.qdqSkipped).toMatch(/no quantizer/);
    expect(j.outputs.qdq).toBeNull();
    expect(existsSync(join(d, 'w6.qdq.onnx'))).toBe(false);
    const side = JSON.parse(readFileSync(join(d, 'w6.quant.json'), 'utf8')) as { quantizers: { role: string }[] };
    expect(side.quantizers.every((q) => q.role === 'weight')).toBe(true);
  });

  it('rejects bad flags and recipes with one line', () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-q-'));
    expect(runCli([...base(join(d, 'x.onnx')), '--w-bits', '40']).code).toBe(2);
    expect(runCli([...base(join(d, 'x.txt'))]).code).toBe(2);
    writeFileSync(join(d, 'r.yaml'), 'weights:\n  bits: 4\n  observer: magic\n');
    const msg = expectOneLineError(runCli([...base(join(d, 'x.onnx')), '--recipe', join(d, 'r.yaml')]));
    expect(msg).toMatch(/weights\.observer must be one of/);
    writeFileSync(join(d, 'r2.yaml'), 'overrides:\n  - node: /blocks\\.0/\n    skip: true\n  - {}\n');
    expect(expectOneLineError(runCli([...base(join(d, 'x.onnx')), '--recipe', join(d, 'r2.yaml')]))).toMatch(
      /overrides\[1\] needs node or opType/,
    );
  });

  it('applies recipe overrides: skipped nodes keep float inputs', () => {
    const d = mkdtempSync(join(tmpdir(), 'ql-q-'));
    writeFileSync(join(d, 'r.yaml'), 'overrides:\n  - opType: Gemm\n    skip: true\n  - node: /attn/\n    aBits: 6\n');
    const out = join(d, 'o.onnx');
    expect(runCli([...base(out), '--recipe', join(d, 'r.yaml')]).code).toBe(0);
    const side = JSON.parse(readFileSync(join(d, 'o.quant.json'), 'utf8')) as {
      quantizers: { uses: { node: string }[]; bits: number }[];
    };
    const uses = side.quantizers.flatMap((q) => q.uses.map((u) => ({ node: u.node, bits: q.bits })));
    expect(uses.some((u) => u.node.includes('Gemm'))).toBe(false);
    expect(uses.filter((u) => /attn/.test(u.node)).every((u) => u.bits === 6 || u.bits === 8)).toBe(true);
    expect(uses.some((u) => /attn/.test(u.node) && u.bits === 6)).toBe(true);
  });
});
