// Labels and walk order of reconstruction units. A label is the PyTorch module path that the parameter names inside
// a unit share (`down.0.block.0`), else one taken from node names, else a generated one: a hint for people and for
// ordering, never for finding units. The 'reference' order is the module registration order that Q-Diffusion's
// `named_children()` walk follows (q-diffusion.md §3.3, §9.1): the label tree, ModuleList indices ascending (so the
// DDIM decoder's `up.0`, which runs last, comes first), other siblings in the order they first run. Imports nothing
// from the runtime.

import type { Graph, Node } from '../../onnx/ir.js';

export type LabelSource = 'parameters' | 'node-names' | 'generated';

/** A parameter path as PyTorch exports it: dotted word segments (`blocks.0.attn.qkv.bias`), no `onnx::` names. */
const PARAM_PATH = /^[A-Za-z_]\w*(\.\w+)+$/;

function commonPrefix(paths: readonly string[][]): string[] {
  if (paths.length === 0) return [];
  const first = paths[0]!;
  let n = first.length;
  for (const p of paths) {
    let i = 0;
    while (i < n && i < p.length && p[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n);
}

/** Module path from a node name such as `/layers.0/downsample/reduction/MatMul` (torch scopes; a weak hint). */
function nodeNamePath(name: string): string[] | undefined {
  if (!name.startsWith('/')) return undefined;
  const parts = name.slice(1).split('/').slice(0, -1);
  if (parts.length === 0 || parts.some((p) => !/^\w+(\.\w+)*$/.test(p))) return undefined;
  return parts.flatMap((p) => p.split('.'));
}

/**
 * The label of a unit from the constant inputs its nodes read (parameter names minus the last segment, `weight`),
 * or from its weighted layers' node names.
 */
export function unitLabel(
  g: Graph,
  nodes: readonly Node[],
  layers: readonly Node[],
  constant: ReadonlySet<string>,
): { label: string | undefined; source: LabelSource } {
  const params = new Set<string>();
  for (const n of nodes) for (const i of n.inputs) if (constant.has(i) && PARAM_PATH.test(i)) params.add(i);
  const fromParams = commonPrefix([...params].map((p) => p.split('.').slice(0, -1)));
  if (fromParams.length > 0) return { label: fromParams.join('.'), source: 'parameters' };
  const fromNames = layers.map((l) => nodeNamePath(l.name));
  if (fromNames.length > 0 && fromNames.every((p) => p !== undefined)) {
    const prefix = commonPrefix(fromNames);
    if (prefix.length > 0) return { label: prefix.join('.'), source: 'node-names' };
  }
  return { label: undefined, source: 'generated' };
}

interface TreeNode {
  children: Map<string, TreeNode>;
  /** execution ranks of the units whose label ends here */
  here: number[];
  first: number;
}

/**
 * Unit indices in reference order. `labels[i]` is unit i's label, `exec[i]` its execution rank (distinct).
 */
export function referenceOrder(labels: readonly string[], exec: readonly number[]): number[] {
  const root: TreeNode = { children: new Map(), here: [], first: Infinity };
  const byExec = new Map(exec.map((r, i) => [r, i]));
  labels.forEach((label, i) => {
    let t = root;
    t.first = Math.min(t.first, exec[i]!);
    for (const seg of label.split('.')) {
      let c = t.children.get(seg);
      if (c === undefined) {
        c = { children: new Map(), here: [], first: Infinity };
        t.children.set(seg, c);
      }
      c.first = Math.min(c.first, exec[i]!);
      t = c;
    }
    t.here.push(exec[i]!);
  });
  const out: number[] = [];
  const visit = (t: TreeNode) => {
    type Item = { key: string | null; first: number; child?: TreeNode };
    const items: Item[] = [
      ...t.here.map((r) => ({ key: null, first: r })),
      ...[...t.children].map(([key, child]) => ({ key, first: child.first, child })),
    ];
    const numeric = items.every((it) => it.key !== null && /^\d+$/.test(it.key));
    items.sort((a, b) => (numeric ? Number(a.key) - Number(b.key) : a.first - b.first));
    for (const it of items) {
      if (it.child !== undefined) visit(it.child);
      else out.push(byExec.get(it.first)!);
    }
  };
  visit(root);
  return out;
}
