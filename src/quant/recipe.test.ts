import { describe, expect, it } from 'vitest';
import { applyRecipeDocument, defaultRecipe, nodeBits } from './recipe.js';
import { isQuantlensError } from '../errors.js';

const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(isQuantlensError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('recipes', () => {
  it('merges class settings and overrides onto the base', () => {
    const r = applyRecipeDocument(defaultRecipe(8, 8), {
      weights: { bits: 4, observer: 'mse-range' },
      activations: { symmetric: true },
      overrides: [
        { opType: 'Gemm', skip: true },
        { node: '/attn/', aBits: 6 },
        { node: 'exact', wBits: 32 },
      ],
    });
    expect(r.weights).toEqual({ bits: 4, observer: 'mse-range', symmetric: false, perChannel: true });
    expect(r.activations.symmetric).toBe(true);
    expect(nodeBits(r, 'head', 'Gemm')).toEqual({ wBits: 32, aBits: 32 });
    expect(nodeBits(r, '/blocks.0/attn/MatMul', 'MatMul')).toEqual({ wBits: 4, aBits: 6 });
    expect(nodeBits(r, 'exact', 'Conv')).toEqual({ wBits: 32, aBits: 8 });
    expect(nodeBits(r, 'exactly', 'Conv')).toEqual({ wBits: 4, aBits: 8 });
  });

  it('names the field that is wrong', () => {
    const base = defaultRecipe(8, 8);
    expect(errorOf(() => applyRecipeDocument(base, { weights: { bits: 1 } }))).toMatch(
      /recipe\.weights\.bits must be an integer from 2 to 16/,
    );
    expect(errorOf(() => applyRecipeDocument(base, { activations: { observer: 'x' } }))).toMatch(
      /activations\.observer must be one of/,
    );
    expect(errorOf(() => applyRecipeDocument(base, { weights: { colour: 1 } }))).toMatch(
      /weights\.colour is not a recipe field/,
    );
    expect(errorOf(() => applyRecipeDocument(base, { extra: 1 }))).toMatch(/unknown field extra/);
    expect(errorOf(() => applyRecipeDocument(base, { overrides: [{ node: '/(/' }] }))).toMatch(/not a valid regex/);
    expect(errorOf(() => applyRecipeDocument(base, { overrides: [{ skip: true }] }))).toMatch(/needs node or opType/);
    expect(errorOf(() => applyRecipeDocument(base, ['a']))).toMatch(/must be a mapping/);
  });
});
