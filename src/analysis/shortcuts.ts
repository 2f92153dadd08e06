// Q-Diffusion's shortcut observation as numbers: for each Conv fed by a channel Concat (the UNet decoder's skip
// connections), the range of each Concat input separately, how far apart the halves are, and how the larger
// half compares with the inputs of the neighbouring quantized layers (two before, two after in graph order).
// Works from ranges gathered by the streaming pass. Imports only types.

import { median } from './channel-ranges.js';
import type { ShortcutSite } from './sites.js';
import type { ShortcutAnalysis, TensorStats } from './types.js';

export interface PartRange {
  min: number;
  max: number;
  channels: number | null;
}

export const NEIGHBOURS = 2;

export function analyzeShortcut(
  site: ShortcutSite,
  parts: ReadonlyMap<string, PartRange>,
  activations: readonly TensorStats[],
  shortcutInputs: ReadonlySet<string>,
): ShortcutAnalysis {
  const halves = site.parts.map((tensor) => {
    const r = parts.get(tensor) ?? { min: 0, max: 0, channels: null };
    return { tensor, channels: r.channels, min: r.min, max: r.max, range: r.max - r.min };
  });
  const ranges = halves.map((h) => h.range);
  const big = Math.max(...ranges);
  const small = Math.min(...ranges);
  const at = activations.findIndex((a) => a.uses.some((u) => u.node === site.conv));
  const neighbours: ShortcutAnalysis['neighbours'] = [];
  const take = (from: number, step: number) => {
    let found = 0;
    for (let i = from; i >= 0 && i < activations.length && found < NEIGHBOURS; i += step) {
      const a = activations[i]!;
      if (shortcutInputs.has(a.tensor)) continue;
      neighbours.push({ node: a.uses[0]?.node ?? '', tensor: a.tensor, range: a.max - a.min });
      found++;
    }
  };
  if (at >= 0) {
    take(at - 1, -1);
    neighbours.reverse();
    take(at + 1, 1);
  }
  const med = median(neighbours.map((n) => n.range));
  return {
    conv: site.conv,
    concat: site.concat,
    halves,
    halfRatio: small > 0 ? big / small : big > 0 ? Infinity : 1,
    neighbours,
    neighbourRatio: neighbours.length > 0 && med > 0 ? big / med : null,
  };
}
