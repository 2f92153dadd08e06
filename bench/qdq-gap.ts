// How far a QDQ export's outputs are from its simulated model's, with ORT graph optimizations on and off, and how
// much of the gap ORT's BiasQuantization transformer explains (docs/diffusion.md, "Simulation vs QDQ export").
//
//   tsx bench/qdq-gap.ts <model>.onnx <model>.qdq.onnx <inputs>.npz [<fp model>.onnx]
//
// The inputs are the first array of each model input's name in the npz (what `calib-set` writes). Gaps are relative
// L2 (‖a − b‖ / ‖b‖) of the first output against the simulated model run with optimizations off. "bias-rounded":
// the QDQ export with the Conv/Gemm biases replaced, in float, by the int32-rounded values ORT's optimized graph
// dequantizes (round(b / (s_x·s_w))·s_x·s_w), run with optimizations off.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../src/onnx/io/index.js';
import type { Model } from '../src/onnx/ir.js';
import { withOrtRoundedBiases } from '../src/quant/qdq-export.js';
import { Session } from '../src/runtime/index.js';
import { readNpz } from '../src/data/index.js';
import type { HostTensor } from '../src/util/host-tensor.js';

const [simPath, qdqPath, npzPath, fpPath] = process.argv.slice(2);
if (simPath === undefined || qdqPath === undefined || npzPath === undefined) {
  console.error('usage: tsx bench/qdq-gap.ts <model>.onnx <model>.qdq.onnx <inputs>.npz [<fp model>.onnx]');
  process.exit(2);
}
const data = readNpz(npzPath);

async function run(model: Model, optimize: boolean, optimizedModelPath?: string): Promise<Float32Array> {
  const s = await Session.create(model, {
    threads: 1,
    optimize,
    ...(optimizedModelPath ? { optimizedModelPath } : {}),
  });
  const feeds: Record<string, HostTensor> = {};
  for (const spec of s.inputs) {
    const t = data.get(spec.name);
    if (t === undefined) throw new Error(`${npzPath} has no array ${spec.name}`);
    feeds[spec.name] = t;
  }
  const out = (await s.run(feeds))[s.outputNames[0]!]!;
  await s.release();
  return out.data as Float32Array;
}

function rel(a: Float32Array, b: Float32Array): string {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return `${((100 * Math.sqrt(num)) / Math.sqrt(den)).toFixed(2)} %`;
}

const sim = readModel(simPath);
const qdq = readModel(qdqPath);
const ref = await run(sim, false);
const dir = mkdtempSync(join(tmpdir(), 'ql-qdq-gap-'));
try {
  const optPath = join(dir, 'optimized.onnx');
  const qdqOn = await run(qdq, true, optPath);
  const qdqOff = await run(qdq, false);
  const simOn = await run(sim, true);
  const { model: rounded, rounded: biases } = withOrtRoundedBiases(qdq, readModel(optPath));
  const count = biases.length;
  const biasRounded = await run(rounded, false);
  console.log(`QDQ export vs simulation, optimizations on:  ${rel(qdqOn, ref)}`);
  console.log(`QDQ export vs simulation, optimizations off: ${rel(qdqOff, ref)}`);
  console.log(`simulation, optimizations on vs off (float reordering alone): ${rel(simOn, ref)}`);
  console.log(`QDQ export with ORT's bias rounding (optimizations off) vs simulation: ${rel(biasRounded, ref)}`);
  console.log(
    `QDQ export with the ${count} Conv/Gemm biases ORT rounds to int32 (optimizations off) vs QDQ export (on): ${rel(biasRounded, qdqOn)}`,
  );
  if (fpPath !== undefined) {
    const fp = await run(readModel(fpPath), true);
    console.log(
      `quantization error for scale: simulation vs FP ${rel(ref, fp)}, QDQ export (on) vs FP ${rel(qdqOn, fp)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
