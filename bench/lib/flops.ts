// FLOPs of a graph's MatMul, Gemm and Conv nodes (2 per multiply-accumulate, as tools/quantlens_models.py's
// count_flops), with shapes probed on one batch: exact for any exporter's layout, no shape inference needed.

import type { Model, Node } from '../../src/onnx/ir.js';
import { Prober, type Feeds, type SessionOptions } from '../../src/runtime/index.js';

export const FLOP_OPS = ['MatMul', 'Gemm', 'Conv'] as const;

const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** FLOPs of one node from its operand and output shapes; biases and elementwise work are not counted. */
export function nodeFlops(
  opType: string,
  a: readonly number[],
  b: readonly number[],
  out: readonly number[],
  transA = false,
): number {
  if (opType === 'MatMul') return 2 * numel(out) * (a.length === 0 ? 1 : a[a.length - 1]!);
  if (opType === 'Gemm') return 2 * numel(out) * (transA ? a[0]! : a[a.length - 1]!);
  // Conv: every output element is a dot product over (input channels / groups) x kernel = W[1:].
  if (opType === 'Conv') return 2 * numel(out) * numel(b.slice(1));
  return 0;
}

function transA(n: Node): boolean {
  const a = n.attributes.get('transA');
  return a?.type === 'int' && a.value !== 0n;
}

export interface FlopCount {
  /** for the batch of `feeds` */
  total: number;
  perItem: number;
  batch: number;
  byOp: Record<string, number>;
  nodes: number;
}

/** Probe the operand and output shapes of every MatMul/Gemm/Conv on `feeds` and add up their FLOPs. */
export async function countFlops(model: Model, feeds: Feeds, opts: SessionOptions = {}): Promise<FlopCount> {
  const nodes = model.graph.nodes.filter((n) => (FLOP_OPS as readonly string[]).includes(n.opType) && n.domain === '');
  const names = new Set<string>();
  for (const n of nodes) {
    names.add(n.inputs[0]!);
    names.add(n.inputs[1]!);
    names.add(n.outputs[0]!);
  }
  const prober = await Prober.create(model, [...names], opts);
  let got: Map<string, { dims: number[] }>;
  try {
    got = await prober.run(feeds);
  } finally {
    await prober.release();
  }
  const byOp: Record<string, number> = {};
  let total = 0;
  for (const n of nodes) {
    const f = nodeFlops(
      n.opType,
      got.get(n.inputs[0]!)!.dims,
      got.get(n.inputs[1]!)!.dims,
      got.get(n.outputs[0]!)!.dims,
      transA(n),
    );
    byOp[n.opType] = (byOp[n.opType] ?? 0) + f;
    total += f;
  }
  const batch = Object.values(feeds)[0]?.dims[0] ?? 1;
  return { total, perItem: total / batch, batch, byOp, nodes: nodes.length };
}
