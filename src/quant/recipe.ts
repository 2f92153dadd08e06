// A recipe says what is quantized and how: bit widths and observers per tensor class, plus overrides by node name
// or op type. Recipes come from flags or from a YAML file (`--recipe`), validated with errors that name the field.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeError, ioError, usageError } from '../errors.js';
import { checkBits } from './qparams.js';
import type { ObserverName } from './observers/types.js';
import { isObserverName, OBSERVER_NAMES } from './observers/index.js';

export type { ObserverName };

export interface TensorClassSettings {
  /** 32 leaves the class in float */
  bits: number;
  observer: ObserverName;
  symmetric: boolean;
  /** weights: per output channel; activations: per tensor unless a method says otherwise */
  perChannel: boolean;
}

export interface Override {
  /** node name: exact, or a /regex/ */
  node?: string;
  opType?: string;
  /** leave this node's inputs in float */
  skip?: boolean;
  wBits?: number;
  aBits?: number;
}

export interface Recipe {
  weights: TensorClassSettings;
  activations: TensorClassSettings;
  /** op types whose inputs are quantized */
  ops: string[];
  overrides: Override[];
}

export const QUANTIZED_OPS = ['MatMul', 'Gemm', 'Conv'];

export function defaultRecipe(wBits: number, aBits: number, observer: ObserverName = 'minmax'): Recipe {
  return {
    weights: { bits: wBits, observer, symmetric: false, perChannel: true },
    activations: { bits: aBits, observer, symmetric: false, perChannel: false },
    ops: [...QUANTIZED_OPS],
    overrides: [],
  };
}

function checkClassBits(bits: unknown, where: string): number {
  if (bits === 32) return 32;
  if (typeof bits !== 'number') throw usageError(`${where} must be a number (2-16, or 32 for float)`);
  checkBits(bits, where);
  return bits;
}

function checkObserver(v: unknown, where: string): ObserverName {
  if (typeof v !== 'string' || !isObserverName(v))
    throw usageError(`${where} must be one of ${OBSERVER_NAMES.join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

function checkBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw usageError(`${where} must be true or false`);
  return v;
}

function mergeClass(base: TensorClassSettings, v: unknown, where: string): TensorClassSettings {
  if (v === undefined) return base;
  if (typeof v !== 'object' || v === null) throw usageError(`${where} must be a mapping`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['bits', 'observer', 'symmetric', 'perChannel'].includes(k))
      throw usageError(`${where}.${k} is not a recipe field`);
  return {
    bits: o.bits === undefined ? base.bits : checkClassBits(o.bits, `${where}.bits`),
    observer: o.observer === undefined ? base.observer : checkObserver(o.observer, `${where}.observer`),
    symmetric: o.symmetric === undefined ? base.symmetric : checkBool(o.symmetric, `${where}.symmetric`),
    perChannel: o.perChannel === undefined ? base.perChannel : checkBool(o.perChannel, `${where}.perChannel`),
  };
}

function checkOverride(v: unknown, where: string): Override {
  if (typeof v !== 'object' || v === null) throw usageError(`${where} must be a mapping`);
  const o = v as Record<string, unknown>;
  const out: Override = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'node' || k === 'opType') {
      if (typeof x !== 'string' || x === '') throw usageError(`${where}.${k} must be a non-empty string`);
      if (k === 'node' && x.startsWith('/') && x.endsWith('/') && x.length > 1) {
        try {
          new RegExp(x.slice(1, -1));
        } catch (e) {
          throw usageError(`${where}.node is not a valid regex: ${describeError(e)}`);
        }
      }
      out[k] = x;
    } else if (k === 'skip') out.skip = checkBool(x, `${where}.skip`);
    else if (k === 'wBits' || k === 'aBits') out[k] = checkClassBits(x, `${where}.${k}`);
    else throw usageError(`${where}.${k} is not an override field (node, opType, skip, wBits, aBits)`);
  }
  if (out.node === undefined && out.opType === undefined) throw usageError(`${where} needs node or opType`);
  return out;
}

/** Apply a parsed recipe document on top of `base`. */
export function applyRecipeDocument(base: Recipe, doc: unknown, source = 'recipe'): Recipe {
  if (doc === null || doc === undefined) return base;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usageError(`${source} must be a mapping`);
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['weights', 'activations', 'ops', 'overrides'].includes(k))
      throw usageError(`${source}: unknown field ${k} (weights, activations, ops, overrides)`);
  let ops = base.ops;
  if (o.ops !== undefined) {
    if (!Array.isArray(o.ops) || o.ops.some((x) => typeof x !== 'string'))
      throw usageError(`${source}.ops must be a list of op types`);
    ops = o.ops as string[];
  }
  let overrides = base.overrides;
  if (o.overrides !== undefined) {
    if (!Array.isArray(o.overrides)) throw usageError(`${source}.overrides must be a list`);
    overrides = [...overrides, ...o.overrides.map((x, i) => checkOverride(x, `${source}.overrides[${i}]`))];
  }
  return {
    weights: mergeClass(base.weights, o.weights, `${source}.weights`),
    activations: mergeClass(base.activations, o.activations, `${source}.activations`),
    ops,
    overrides,
  };
}

export function loadRecipeFile(path: string, base: Recipe): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw ioError(`recipe file not found: ${path}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw usageError(`recipe ${path} is not valid YAML: ${describeError(e)}`);
  }
  return applyRecipeDocument(base, doc, path);
}

function matches(o: Override, nodeName: string, opType: string): boolean {
  if (o.opType !== undefined && o.opType !== opType) return false;
  if (o.node !== undefined) {
    const isRegex = o.node.length > 1 && o.node.startsWith('/') && o.node.endsWith('/');
    if (isRegex ? !new RegExp(o.node.slice(1, -1)).test(nodeName) : o.node !== nodeName) return false;
  }
  return true;
}

/** Effective bits for a node's weight and activation inputs (32: float), after overrides (last one wins). */
export function nodeBits(recipe: Recipe, nodeName: string, opType: string): { wBits: number; aBits: number } {
  let wBits = recipe.weights.bits;
  let aBits = recipe.activations.bits;
  for (const o of recipe.overrides) {
    if (!matches(o, nodeName, opType)) continue;
    if (o.skip === true) {
      wBits = 32;
      aBits = 32;
    }
    if (o.wBits !== undefined) wBits = o.wBits;
    if (o.aBits !== undefined) aBits = o.aBits;
  }
  return { wBits, aBits };
}
