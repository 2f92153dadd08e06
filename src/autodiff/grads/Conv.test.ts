import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Conv gradient', () => {
  it('matches central differences (float32: ORT has no float64 kernel) (3x3, pad 1, bias)', async () => {
    expectGrads(
      'Conv',
      await checkOp(
        {
          op: 'Conv',
          inputs: [{ dims: [2, 3, 5, 5] }, { dims: [4, 3, 3, 3] }, { dims: [4] }],
          attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
          dtype: 'float32',
        },
        { floor: 1e-2 },
      ),
      2e-3,
    );
  });
  it('handles stride 2 with an uneven edge and dilation', async () => {
    expectGrads(
      'Conv(stride, dilation)',
      await checkOp(
        {
          op: 'Conv',
          inputs: [{ dims: [1, 2, 6, 7] }, { dims: [3, 2, 3, 2] }],
          attrs: { pads: [1, 0, 1, 1], strides: [2, 2], dilations: [1, 2] },
          dtype: 'float32',
        },
        { floor: 1e-2 },
      ),
      2e-3,
    );
  });
  it('handles groups', async () => {
    expectGrads(
      'Conv(groups)',
      await checkOp(
        {
          op: 'Conv',
          inputs: [{ dims: [2, 4, 4, 4] }, { dims: [6, 2, 3, 3] }, { dims: [6] }],
          attrs: { group: 2, pads: [1, 1, 1, 1] },
          dtype: 'float32',
        },
        { floor: 1e-2 },
      ),
      2e-3,
    );
  });

  it('resolves auto_pad SAME_UPPER', async () => {
    const c = {
      op: 'Conv',
      inputs: [{ dims: [1, 2, 5, 6] }, { dims: [2, 2, 3, 2] }],
      attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
      dtype: 'float32' as const,
    };
    expectGrads('Conv(SAME_UPPER)', await checkOp(c, { floor: 1e-2 }), 2e-3);
  });
});
