import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../../errors.js';
import { validateQuantParams } from '../qparams.js';
import { randn, rng, softmaxRows } from '../test-helpers.js';
import { createObserver, isObserverName, OBSERVER_NAMES, type ObserverName } from './index.js';

describe('observer registry', () => {
  it('creates every observer and each returns valid params', () => {
    const rand = rng(101);
    for (const name of OBSERVER_NAMES) {
      const o = createObserver(name, { bits: 8 });
      expect(o.name).toBe(name);
      const x = name === 'log2' || name === 'logsqrt2' ? softmaxRows(rand, 8, 16) : randn(rand, 128);
      o.observe(x, [8, 16]);
      o.observe(x, [8, 16]);
      const p = o.compute();
      expect(() => validateQuantParams(p, [8, 16])).not.toThrow();
      expect(o.batchesSeen).toBe(2);
      expect(o.firstBatchOnly).toBe(['mse-quantile', 'mse-range', 'log2', 'logsqrt2'].includes(name));
    }
  });

  it('minmax, percentile, mse-range and entropy give integer zero-points inside the grid', () => {
    const rand = rng(102);
    const bad: string[] = [];
    for (const name of ['minmax', 'percentile', 'mse-range', 'entropy'] as ObserverName[]) {
      for (const shift of [-5, 0, 5]) {
        for (const bits of [2, 4, 8]) {
          const o = createObserver(name, { bits, axis: name === 'entropy' ? null : -1 });
          o.observe(randn(rand, 400, 1, shift), [50, 8]);
          const p = o.compute();
          if (p.kind !== 'uniform') throw new Error('expected uniform params');
          if (!p.zeroPoint.every((z) => Number.isInteger(z) && z >= p.qmin && z <= p.qmax)) {
            bad.push(`${name} ${bits}b shift ${shift}: [${p.zeroPoint.join(', ')}]`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('rejects unknown names and unsupported options with usage errors', () => {
    expect(isObserverName('minmax')).toBe(true);
    expect(isObserverName('kmeans')).toBe(false);
    expect(() => createObserver('kmeans' as ObserverName, { bits: 8 })).toThrow(QuantlensError);
    expect(() => createObserver('entropy', { bits: 8, rangeMode: 'qdiff' })).toThrow(/does not support/);
    expect(() => createObserver('minmax', { bits: 20 })).toThrow(/2 to 16/);
  });
});
