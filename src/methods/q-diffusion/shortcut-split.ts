// Q-Diffusion's shortcut splitting (q-diffusion.md §5, DESIGN §4) as a graph rewrite. A Conv whose data input is a
// channel Concat of activations (the UNet decoder's concat([h_deep, h_skip]) read by ResnetBlock.nin_shortcut or
// ResBlock.skip_connection) becomes one Conv per Concat input, reading that input directly with the matching
// input-channel slice of the weight, and Adds that sum the partial outputs (the bias stays on the first). In float
// this computes the same outputs up to summation order. What it buys: each half is a Conv of its own, so planning
// gives it its own activation quantizer and its own per-output-channel weight quantizer (Q_X1(X1)·Q_W1(W1) +
// Q_X2(X2)·Q_W2(W2), paper Eqs. 6-8), and the QDQ export needs nothing special.
//
// Only Convs that read the Concat itself are split: the block's conv1 reads GroupNorm+SiLU of the concat, whose
// ranges are no longer bimodal, and the reference does not split it. The Concat stays where others read it (the
// GroupNorm of the same block); otherwise dead-code elimination drops it. The split point is the channel count of
// each Concat input: from shape information, from the producers (Conv weights, element-wise ops, Concats), or
// from `channels` (e.g. probed on a batch); the sum must equal the weight's input channels.
// Imports the IR, builder naming, plan.ts's initializer lookup and analysis' shortcut-site finder (the same sites
// `analyze` reports).

import type { Graph, Node } from '../../onnx/ir.js';
import { Node as IrNode } from '../../onnx/ir.js';
import { Namer, names } from '../../onnx/naming.js';
import { makeTensor, toFloat32 } from '../../onnx/tensor.js';
import { eliminateDeadCode } from '../../onnx/rewrite/dce.js';
import { ensureUniqueNodeNames, initializerBehind } from '../../quant/plan.js';
import { shortcutSites, type ShortcutSite } from '../../analysis/sites.js';

export interface SplitPart {
  /** the Concat input this part reads */
  tensor: string;
  channels: number;
  /** the new Conv over this part and its weight slice (an initializer) */
  conv: string;
  weight: string;
}

export interface ShortcutSplit {
  /** the original Conv (now removed), the Concat it read and its weight */
  conv: string;
  concat: string;
  weight: string;
  parts: SplitPart[];
}

export interface SkippedSplit {
  conv: string;
  reason: string;
}

/** Ops whose output has the channels of their (broadcast) inputs. */
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Where', 'Sum']);
const SAME_CHANNELS = new Set([
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Softplus',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
  'Clip',
  'Identity',
  'Dropout',
  'Resize',
  'Upsample',
  'MaxPool',
  'AveragePool',
  'InstanceNormalization',
  'BatchNormalization',
  'LpNormalization',
]);

/** Channels (axis 1) of `value` from shape information or its producers, or undefined when not determinable. */
export function channelsOf(g: Graph, value: string, depth = 24): number | undefined {
  const dim = g.typeOf(value)?.shape?.[1];
  if (typeof dim === 'number') return dim;
  if (g.initializers.has(value) || depth === 0) return undefined;
  const p = g.producerOf(value);
  if (p === undefined) return undefined;
  if (p.opType === 'Conv' || p.opType === 'ConvTranspose') {
    const w = initializerBehind(g, p.inputs[1] ?? '');
    const dims = w === undefined ? undefined : g.initializers.get(w)!.dims;
    if (dims === undefined || dims.length < 3) return undefined;
    return p.opType === 'Conv' ? dims[0] : dims[1]! * (p.intAttr('group', 1) ?? 1);
  }
  if (p.opType === 'Concat' && p.intAttr('axis', 0) === 1) {
    let sum = 0;
    for (const v of p.inputs) {
      const c = channelsOf(g, v, depth - 1);
      if (c === undefined) return undefined;
      sum += c;
    }
    return sum;
  }
  if (SAME_CHANNELS.has(p.opType)) return channelsOf(g, p.inputs[0] ?? '', depth - 1);
  if (ELEMENTWISE.has(p.opType)) {
    // Broadcasting: the output has the largest channel count among the inputs. A known 1 next to an unknown input
    // says nothing (the unknown one may be the real tensor).
    let best: number | undefined;
    let unknown = false;
    for (const v of p.inputs) {
      if (v === '' || g.initializers.has(v)) continue;
      const c = channelsOf(g, v, depth - 1);
      if (c === undefined) unknown = true;
      else best = Math.max(best ?? 0, c);
    }
    return best === undefined || (best === 1 && unknown) ? undefined : best;
  }
  return undefined;
}

/** Input channels of each Concat input, or a reason why they cannot be told. */
function partChannels(
  g: Graph,
  site: ShortcutSite,
  cin: number,
  given: ReadonlyMap<string, number>,
): number[] | string {
  const known = site.parts.map((v) => given.get(v) ?? channelsOf(g, v));
  const missing = known.filter((c) => c === undefined).length;
  const sumKnown = known.reduce<number>((a, c) => a + (c ?? 0), 0);
  // One unknown part is the weight's input channels minus the others.
  if (missing === 1 && sumKnown < cin) return known.map((c) => c ?? cin - sumKnown);
  if (missing > 0) return `channel counts of ${site.parts.join(', ')} are unknown (no shape information)`;
  const channels = known as number[];
  if (sumKnown !== cin)
    return `Concat inputs have ${channels.join(' + ')} channels but the weight has ${cin} input channels`;
  return channels;
}

/** The input-channel slice [from, from + n) of a [Cout, Cin, ...kernel] weight. */
function sliceInputChannels(w: Float32Array, dims: readonly number[], from: number, n: number): Float32Array {
  const cout = dims[0]!;
  const cin = dims[1]!;
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(cout * n * inner);
  for (let o = 0; o < cout; o++)
    out.set(w.subarray((o * cin + from) * inner, (o * cin + from + n) * inner), o * n * inner);
  return out;
}

function whyNot(g: Graph, conv: Node): string | undefined {
  if ((conv.intAttr('group', 1) ?? 1) !== 1) return 'grouped convolution';
  const w = initializerBehind(g, conv.inputs[1] ?? '');
  if (w === undefined) return 'its weight is not an initializer';
  const t = g.initializers.get(w)!;
  if (t.dtype !== 'float32') return `its weight is ${t.dtype}, not float32`;
  if (t.dims.length < 3) return `its weight has rank ${t.dims.length}`;
  return undefined;
}

/** Rewrites one site in place; returns the record. */
function splitSite(g: Graph, namer: Namer, site: ShortcutSite, conv: Node, channels: number[]): ShortcutSplit {
  const wName = initializerBehind(g, conv.inputs[1]!)!;
  const w = g.initializers.get(wName)!;
  const data = toFloat32(w);
  const bias = conv.inputs[2];
  const output = conv.outputs[0]!;
  const at = g.nodes.indexOf(conv);
  g.removeNode(conv);
  const nodes: Node[] = [];
  const parts: SplitPart[] = [];
  let from = 0;
  let sum: string | undefined;
  for (const [i, tensor] of site.parts.entries()) {
    const n = channels[i]!;
    const weight = namer.fresh(names.split(wName, i));
    g.initializers.set(
      weight,
      makeTensor(weight, sliceInputChannels(data, w.dims, from, n), [w.dims[0]!, n, ...w.dims.slice(2)]),
    );
    from += n;
    const last = i === site.parts.length - 1;
    const partOut = namer.fresh(names.split(output, i));
    const name = namer.fresh(names.split(conv.name, i));
    const inputs = i === 0 && bias !== undefined && bias !== '' ? [tensor, weight, bias] : [tensor, weight];
    nodes.push(
      new IrNode({
        name,
        opType: 'Conv',
        domain: conv.domain,
        inputs,
        outputs: [partOut],
        attributes: new Map(conv.attributes),
      }),
    );
    parts.push({ tensor, channels: n, conv: name, weight });
    if (sum === undefined) sum = partOut;
    else {
      const addOut = last ? output : namer.fresh(names.node(output, `split_sum${i}`));
      nodes.push(
        new IrNode({
          name: namer.fresh(names.node(conv.name, `split_add${i}`)),
          opType: 'Add',
          domain: '',
          inputs: [sum, partOut],
          outputs: [addOut],
        }),
      );
      sum = addOut;
    }
  }
  nodes.forEach((n, k) => g.addNode(n, at + k));
  return { conv: conv.name, concat: site.concat, weight: wName, parts };
}

export interface SplitOptions {
  /** channel counts of Concat inputs known from elsewhere (e.g. probed), by value name */
  channels?: ReadonlyMap<string, number>;
}

/** Concat inputs of shortcut sites whose channel counts shape information and producers do not tell. */
export function unknownPartChannels(g: Graph): string[] {
  const out = new Set<string>();
  for (const s of shortcutSites(g)) for (const v of s.parts) if (channelsOf(g, v) === undefined) out.add(v);
  return [...out];
}

/**
 * Splits every shortcut Conv of `g` in place (see the header). Sites that cannot be split are left as they are and
 * reported with the reason. Dead nodes (a Concat only the split Conv read) are removed.
 */
export function splitShortcuts(
  g: Graph,
  opts: SplitOptions = {},
): { splits: ShortcutSplit[]; skipped: SkippedSplit[] } {
  g.topoSort();
  // Sites name their Conv, so names must be unique (the plan would rename duplicates the same way later).
  ensureUniqueNodeNames(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const namer = new Namer(g);
  const splits: ShortcutSplit[] = [];
  const skipped: SkippedSplit[] = [];
  for (const site of shortcutSites(g)) {
    const conv = byName.get(site.conv)!;
    const why = whyNot(g, conv);
    if (why !== undefined) {
      skipped.push({ conv: site.conv, reason: why });
      continue;
    }
    const w = g.initializers.get(initializerBehind(g, conv.inputs[1]!)!)!;
    const channels = partChannels(g, site, w.dims[1]!, opts.channels ?? new Map());
    if (typeof channels === 'string') {
      skipped.push({ conv: site.conv, reason: channels });
      continue;
    }
    splits.push(splitSite(g, namer, site, conv, channels));
  }
  if (splits.length > 0) {
    eliminateDeadCode(g);
    g.topoSort();
  }
  return { splits, skipped };
}
