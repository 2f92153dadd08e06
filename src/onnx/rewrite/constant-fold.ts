// Constant folding: `Constant` nodes become initializers, nodes whose inputs are all constant are evaluated in
// TypeScript (fold-ops.ts) and replaced by initializers, and `Shape` of a value with a static shape (or the static
// dims that a Gather/Slice picks out of a partly symbolic shape) becomes a constant. Repeats to a fixpoint, then
// runs DCE. A folded value keeps its name, so consumers need no rewiring; a node whose output is a graph output
// is never removed (the model's interface stays as it was). Imports the IR, const-value, dce and the kernels.

import type { Graph, Node } from '../ir.js';
import { elementCount } from '../tensor.js';
import type { DType } from '../dtype.js';
import { constantNodeTensor, constantTensor } from './const-value.js';
import { eliminateDeadCode, type DceResult } from './dce.js';
import { KERNELS } from './fold-ops.js';
import { type Arr, Unfoldable, fromTensor, size, toTensor } from './fold-tensor.js';

export interface FoldOptions {
  /**
   * 'shape' (default) folds only what shape arithmetic produces: integer/bool tensors of at most 4096 elements
   * and float tensors of at most 8 (a Cast of a shape, Resize scales). Weights stay initializers that
   * quantizers can find, even behind a Transpose or Reshape. 'all' folds every constant subgraph of supported ops.
   */
  mode?: 'shape' | 'all';
  /** Largest tensor (elements) a fold may read or produce (default 2^20). */
  maxElements?: number;
}

export interface FoldResult {
  /** Constant nodes turned into initializers. */
  constants: number;
  /** Nodes evaluated and replaced by initializers. */
  folded: number;
  dce: DceResult;
}

const SHAPE_INT_LIMIT = 4096;
const SHAPE_FLOAT_LIMIT = 8;

function shapeLike(dtype: DType, n: number): boolean {
  if (dtype === 'int64' || dtype === 'int32' || dtype === 'bool') return n <= SHAPE_INT_LIMIT;
  return (dtype === 'float32' || dtype === 'float64') && n <= SHAPE_FLOAT_LIMIT;
}

/** The part of `x`'s shape that a Shape node reports (its start/end attributes are opset 15+). */
function shapeSlice(graph: Graph, shapeNode: Node): (number | null)[] | undefined {
  const x = shapeNode.inputs[0];
  const dims = x === undefined ? undefined : graph.typeOf(x)?.shape;
  if (dims === undefined) return undefined;
  const r = dims.length;
  const bound = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = bound(shapeNode.intAttr('start', 0));
  const end = bound(shapeNode.intAttr('end', r));
  return dims.slice(start, Math.max(start, end)).map((d) => (typeof d === 'number' && d >= 0 ? d : null));
}

function int64Arr(values: readonly number[], dims: number[]): Arr {
  return { dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

class Folder {
  private readonly cache = new Map<string, Arr>();
  constructor(
    private readonly graph: Graph,
    private readonly mode: 'shape' | 'all',
    private readonly maxElements: number,
  ) {}

  private allowed(dtype: DType, n: number): boolean {
    return n <= this.maxElements && (this.mode === 'all' || shapeLike(dtype, n));
  }

  /** The constant value of `name` if it is one the current mode may read. */
  private value(name: string): Arr | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const t = constantTensor(this.graph, name);
    if (t === undefined || !this.allowed(t.dtype, elementCount(t.dims))) return undefined;
    const a = fromTensor(t);
    if (a !== undefined) this.cache.set(name, a);
    return a;
  }

  private run(node: Node, inputs: (Arr | undefined)[]): Arr | undefined {
    const kernel = KERNELS[node.opType];
    if (kernel === undefined) return undefined;
    try {
      const out = kernel(node, inputs, { maxElements: this.maxElements });
      return this.allowed(out.dtype, size(out)) ? out : undefined;
    } catch (e) {
      // RangeError: BigInt conversions of values no kernel should see in a valid model.
      if (e instanceof Unfoldable || e instanceof RangeError) return undefined;
      throw e;
    }
  }

  /** Gather/Slice over a partly symbolic Shape: fold when every picked dimension is static. */
  private pickFromShape(node: Node): Arr | undefined {
    if (node.opType !== 'Gather' && node.opType !== 'Slice') return undefined;
    const shapeNode = this.graph.producerOf(node.inputs[0] ?? '');
    if (shapeNode?.opType !== 'Shape' || shapeNode.domain !== '') return undefined;
    const dims = shapeSlice(this.graph, shapeNode);
    if (dims === undefined) return undefined;
    const rest = node.inputs.slice(1).map((n) => (n === '' ? undefined : this.value(n)));
    if (rest.some((a, i) => a === undefined && node.inputs[i + 1] !== '')) return undefined;
    // Run the op on the positions 0..r-1 to learn which dims it picks, then look those up.
    const picked = this.run(node, [
      int64Arr(
        dims.map((_, i) => i),
        [dims.length],
      ),
      ...rest,
    ]);
    if (picked === undefined) return undefined;
    const values = Array.from(picked.data as BigInt64Array, (p) => dims[Number(p)]);
    if (values.some((v) => v === null || v === undefined)) return undefined;
    return int64Arr(values as number[], picked.dims);
  }

  evaluate(node: Node): Arr | undefined {
    if (node.opType === 'Shape') {
      const dims = shapeSlice(this.graph, node);
      return dims === undefined || dims.includes(null) ? undefined : int64Arr(dims as number[], [dims.length]);
    }
    if (KERNELS[node.opType] === undefined || node.outputs.length !== 1) return undefined;
    const inputs = node.inputs.map((n) => (n === '' ? undefined : this.value(n)));
    if (inputs.some((a, i) => a === undefined && node.inputs[i] !== '')) return this.pickFromShape(node);
    return this.run(node, inputs);
  }

  remember(name: string, value: Arr): void {
    this.cache.set(name, value);
  }
}

export function foldConstants(graph: Graph, opts: FoldOptions = {}): FoldResult {
  const folder = new Folder(graph, opts.mode ?? 'shape', opts.maxElements ?? 1 << 20);
  const result = { constants: 0, folded: 0 };
  // Nodes that produce graph outputs: evaluated once, remembered for their consumers, never removed.
  const kept = new Set<Node>();
  for (let changed = true; changed;) {
    changed = false;
    for (const node of [...graph.nodes]) {
      if (node.domain !== '' || kept.has(node)) continue;
      const outputs = node.outputs;
      const isOutput = outputs.some((o) => graph.isGraphOutput(o));
      if (node.opType === 'Constant') {
        const t = constantNodeTensor(node);
        if (t === undefined || isOutput) continue;
        graph.removeNode(node);
        graph.initializers.set(t.name, t);
        result.constants++;
        changed = true;
        continue;
      }
      const value = folder.evaluate(node);
      if (value === undefined) continue;
      const name = outputs[0]!;
      folder.remember(name, value);
      if (isOutput) {
        kept.add(node);
        changed = true;
        continue;
      }
      graph.removeNode(node);
      graph.initializers.set(name, toTensor(name, value));
      result.folded++;
      changed = true;
    }
  }
  return { ...result, dce: eliminateDeadCode(graph) };
}
