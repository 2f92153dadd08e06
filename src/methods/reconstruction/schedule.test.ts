// Which units can share one capture pass during weight reconstruction: in the reference order the decoder runs
// backwards, so a few decoder units are not fed by the unit before them.

import { describe, expect, it } from 'vitest';
import { readModel } from '../../onnx/io/index.js';
import { fixturePath } from '../../test-support/fixtures.js';
import { captureGroups, upstreamUnits } from './schedule.js';
import { findUnits } from './units.js';

describe('captureGroups', () => {
  const model = readModel(fixturePath('tiny-unet-op17.onnx'));
  const groups = (order: 'reference' | 'execution') =>
    captureGroups(model, findUnits(model, { order }).units).map((g) => g.map((u) => u.id).join('+'));

  it('joins units that no earlier unit of the run feeds', () => {
    // 18 units in 15 passes: the runs of more than one unit
    const reference = groups('reference');
    expect(reference).toHaveLength(15);
    expect(reference.filter((g) => g.includes('+'))).toEqual([
      'temb.dense.1+conv_in',
      'up.0.block.1+up.1.block.0',
      'up.1.block.1+up.1.attn.0',
    ]);
    expect(groups('execution')).toHaveLength(17);
  });

  it('knows what feeds a unit (temb reaches every ResnetBlock)', () => {
    const up = upstreamUnits(model, findUnits(model).units);
    expect([...up.get('down.0.block.0')!].sort()).toEqual(['conv_in', 'temb.dense.0', 'temb.dense.1']);
    expect(up.get('conv_in')!.size).toBe(0);
    expect(up.get('up.1.block.0')!.has('up.0.block.0')).toBe(false);
  });
});
