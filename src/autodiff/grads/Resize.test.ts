import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Resize gradient', () => {
  it('matches central differences (float32: ORT has no float64 kernel) (nearest 2x, asymmetric floor as the UNet)', async () => {
    expectGrads(
      'Resize',
      await checkOp(
        {
          op: 'Resize',
          inputs: [
            { dims: [1, 2, 2, 3] },
            { dims: [0], absent: true },
            { dims: [4], values: [1, 1, 2, 2], constant: true },
          ],
          attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
          dtype: 'float32',
        },
        { floor: 1e-2 },
      ),
      2e-3,
    );
  });
});
