// The only source of generated names. Names are deterministic: a base name, then `base_1`, `base_2`, ... the
// first that no value, node or initializer of the graph (or of names reserved earlier) uses.

import type { Graph } from './ir.js';

export class Namer {
  private readonly used = new Set<string>();

  constructor(graph?: Graph) {
    if (graph !== undefined) this.reserveGraph(graph);
  }

  reserveGraph(graph: Graph): void {
    for (const v of graph.valueNames()) this.used.add(v);
    for (const n of graph.nodes) {
      this.used.add(n.name);
      for (const attr of n.attributes.values()) {
        if (attr.type === 'graph') this.reserveGraph(attr.value);
        if (attr.type === 'graphs') attr.value.forEach((g) => this.reserveGraph(g));
      }
    }
  }

  reserve(name: string): void {
    this.used.add(name);
  }

  /** Where the search for `base_i` resumes: every lower i is taken (names are never released). */
  private readonly nextSuffix = new Map<string, number>();

  /** A fresh name derived from `base`, reserved on return. */
  fresh(base: string): string {
    let name = base;
    let i = this.used.has(name) ? (this.nextSuffix.get(base) ?? 1) : 1;
    for (; this.used.has(name); i++) name = `${base}_${i}`;
    this.nextSuffix.set(base, i);
    this.used.add(name);
    return name;
  }
}

/** Deterministic names of the pieces quantlens inserts around a tensor, in one place. */
export const names = {
  quantized: (tensor: string) => `${tensor}__q`,
  dequantized: (tensor: string) => `${tensor}__dq`,
  scale: (tensor: string) => `${tensor}__scale`,
  zeroPoint: (tensor: string) => `${tensor}__zero_point`,
  node: (tensor: string, op: string) => `${tensor}__${op}`,
  /** part i of something split in pieces (a shortcut-split Conv, its weight slice, its partial output) */
  split: (base: string, part: number) => `${base}__split${part}`,
  /** a named piece of something quantlens builds (a quantizer's `alpha`, `scale`, ...) */
  part: (base: string, piece: string) => `${base}/${piece}`,
  /** a constant or input of a training method's graph not tied to a tensor (`adaround__beta`, `lsq__p`) */
  methodValue: (method: string, piece: string) => `${method}__${piece}`,
  /** what a training method adds for the quantizer or tensor `key` (`<key>__adaround`) */
  trained: (key: string, method: string) => `${key}__${method}`,
  /** a new graph input holding the target `value` is compared with in a loss */
  target: (value: string) => `${value}__target`,
  /** the producer's output once `value` itself became a graph input (a cut) */
  cut: (value: string) => `${value}__cut`,
  /** the indices output added to a MaxPool producing `value` (its gradient needs them) */
  indices: (value: string) => `${value}__indices`,
  /** the gradient of `value` */
  gradient: (value: string) => `grad_${value}`,
  /** a constant a gradient rule adds */
  gradientConstant: () => 'grad_const',
  /** the scalar loss of a gradient graph */
  loss: () => 'loss',
};
