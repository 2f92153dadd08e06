// Conformance against ONNX's own test suite (Debian package libonnx-testdata): every model must survive
// read -> write -> read unchanged, and ONNX Runtime must compute bit-identical outputs on the original bytes and
// on our written copy. A test harness (used by conformance.test.ts), not part of the public API; unlike the rest of
// onnx/ it imports runtime/, since running both copies is the point.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { createOrtSession, type OrtSession } from '../runtime/ort.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { DType } from './dtype.js';
import { bytesEqual, describeModel, firstDifference } from './compare.js';
import { isTensorType, type Model, type Tensor } from './ir.js';
import { parseModel, parseTensor, serializeModel } from './io/index.js';
import { elementCount, typedData } from './tensor.js';

export const TESTDATA_ROOT = '/usr/share/libonnx-testdata/data';
/** `real/` holds only download links, so it is not a suite. */
export const SUITES = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'] as const;
/** ONNX's backend-test tolerance (onnx/backend/test/runner). */
export const RTOL = 1e-3;
export const ATOL = 1e-7;

export interface CaseResult {
  suite: string;
  test: string;
  /** Reading the original failed: the message. */
  readError?: string;
  /** undefined: identical; else the first difference (path: a vs b). */
  roundTripDiff?: string;
  /** Our copy re-serialized gives the same bytes as our copy (writing is a fixpoint). */
  fixpoint?: boolean;
  ortLoadsOriginal?: boolean;
  /** Original loads in ORT but our copy does not (a failure). */
  copyLoadError?: string;
  /** Why the model was not run on its test data (grouped by the text before the first ':'). */
  skip?: string;
  /** Test data sets run. */
  dataSets?: number;
  /** ORT's outputs on the original match the expected outputs within tolerance, for every data set. */
  originalMatchesExpected?: boolean;
  expectedMismatch?: string;
  /** ORT's outputs on our copy equal those on the original, bit for bit. */
  copyBitIdentical?: boolean;
  copyDiff?: string;
  /** Where the original matches the expected outputs: whether our copy does too. */
  copyMatchesExpected?: boolean;
}

export interface Summary {
  total: number;
  readOk: number;
  roundTripIdentical: number;
  fixpoint: number;
  ortLoadable: number;
  copyLoadable: number;
  run: number;
  originalMatchesExpected: number;
  copyMatchesExpected: number;
  copyBitIdentical: number;
  /** Not run on their test data, by reason. */
  notRun: Map<string, string[]>;
  /** Run, but ORT's outputs on the original do not match the expected ones, by reason. */
  expectedMismatch: Map<string, string[]>;
  failures: string[];
  seconds: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Feeding ORT and comparing its outputs.

type OrtFeed = HostTensor;

/** Element types onnxruntime-node takes as input, with the typed array it wants. */
const FEEDABLE = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);

/** The runtime wrapper returns only these (src/runtime/ort.ts); other outputs are reported as a skip. */
const RETURNABLE = new Set<DType>(['float32', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool']);

function toFeed(t: Tensor): OrtFeed {
  if (t.dtype === 'string') {
    const dec = new TextDecoder();
    // onnxruntime-node takes string tensors as string[]; the wrapper's HostTensor type does not model them.
    return {
      dtype: 'string',
      dims: [...t.dims],
      data: (t.strings ?? []).map((s) => dec.decode(s)),
    } as unknown as OrtFeed;
  }
  const data = typedData(t).slice();
  return { dtype: t.dtype, dims: [...t.dims], data } as unknown as OrtFeed;
}

function numbersOf(data: ArrayLike<number | bigint>, i: number): number | bigint {
  return data[i]!;
}

/** undefined when `got` matches `exp` within the backend-test tolerance (exact for integers and booleans). */
export function compareExpected(exp: Tensor, got: HostTensor): string | undefined {
  if (exp.dtype !== got.dtype) return `dtype ${got.dtype}, expected ${exp.dtype}`;
  if (exp.dims.length !== got.dims.length || exp.dims.some((d, i) => d !== got.dims[i]))
    return `shape [${got.dims.join(', ')}], expected [${exp.dims.join(', ')}]`;
  const want = typedData(exp) as ArrayLike<number | bigint>;
  const have = got.data as ArrayLike<number | bigint>;
  const n = elementCount(exp.dims);
  const isFloat = exp.dtype === 'float32' || exp.dtype === 'float64';
  for (let i = 0; i < n; i++) {
    const e = numbersOf(want, i);
    const g = numbersOf(have, i);
    if (isFloat) {
      const ef = Number(e);
      const gf = Number(g);
      if (Number.isNaN(ef) && Number.isNaN(gf)) continue;
      if (ef === gf) continue;
      if (Math.abs(gf - ef) <= ATOL + RTOL * Math.abs(ef)) continue;
      return `element ${i}: ${gf}, expected ${ef}`;
    }
    if (e !== g) return `element ${i}: ${g}, expected ${e}`;
  }
  return undefined;
}

function sameOutputs(a: Record<string, HostTensor>, b: Record<string, HostTensor>): string | undefined {
  const keys = Object.keys(a);
  if (keys.join('\0') !== Object.keys(b).join('\0')) return 'different output names';
  for (const k of keys) {
    const x = a[k]!;
    const y = b[k]!;
    if (x.dtype !== y.dtype) return `${k}: dtype ${x.dtype} vs ${y.dtype}`;
    if (x.dims.join(',') !== y.dims.join(',')) return `${k}: shape [${x.dims.join(', ')}] vs [${y.dims.join(', ')}]`;
    if (!bytesEqual(x.data, y.data)) return `${k}: values differ`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// One test case.

interface DataSet {
  inputs: Tensor[];
  outputs: Tensor[];
}

function readDataSets(dir: string): DataSet[] | string {
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort((a, b) => Number(a.slice(14)) - Number(b.slice(14)));
  if (sets.length === 0) return 'no test data';
  const result: DataSet[] = [];
  for (const s of sets) {
    const files = readdirSync(join(dir, s));
    const load = (prefix: string) =>
      files
        .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
        .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
        .map((f) => parseTensor(readFileSync(join(dir, s, f)), { what: `${s}/${f}` }));
    result.push({ inputs: load('input_'), outputs: load('output_') });
  }
  return result;
}

/** Why a model's test data cannot be fed through the runtime wrapper, or undefined when it can. */
function whyNotRunnable(model: Model): string | undefined {
  const g = model.graph;
  for (const i of g.inputs) {
    if (g.initializers.has(i.name)) continue;
    if (i.type === undefined) return 'input without a type';
    if (!isTensorType(i.type)) return 'sequence/optional/map input (test data is not a TensorProto)';
    if (!FEEDABLE.has(i.type.dtype)) return `input of type ${i.type.dtype}: onnxruntime-node cannot feed it`;
  }
  for (const o of g.outputs) {
    if (o.type !== undefined && !isTensorType(o.type))
      return 'sequence/optional/map output (test data is not a TensorProto)';
    if (isTensorType(o.type) && !RETURNABLE.has(o.type.dtype))
      return `output of type ${o.type.dtype}: the runtime wrapper returns float32/float64/int64/int32/int8/uint8/bool only`;
  }
  return undefined;
}

async function runAll(session: OrtSession, names: string[], sets: DataSet[]): Promise<Record<string, HostTensor>[]> {
  const out: Record<string, HostTensor>[] = [];
  for (const s of sets) {
    const feeds: Record<string, OrtFeed> = {};
    names.forEach((n, i) => (feeds[n] = toFeed(s.inputs[i]!)));
    out.push(await session.run(feeds));
  }
  return out;
}

async function tryCreate(bytes: Uint8Array, threads: number): Promise<OrtSession | string> {
  try {
    return await createOrtSession(bytes, { threads });
  } catch (e) {
    return describeError(e);
  }
}

export async function runCase(suite: string, test: string, root = TESTDATA_ROOT, threads = 1): Promise<CaseResult> {
  const dir = join(root, suite, test);
  const r: CaseResult = { suite, test };
  const original = readFileSync(join(dir, 'model.onnx'));
  let m1: Model;
  try {
    m1 = parseModel(original, { baseDir: dir, what: `${suite}/${test}` });
  } catch (e) {
    r.readError = describeError(e);
    return r;
  }
  const d1 = describeModel(m1);
  let copy: Uint8Array;
  try {
    copy = serializeModel(m1);
    const m2 = parseModel(copy, { what: `copy of ${suite}/${test}` });
    r.roundTripDiff = firstDifference(d1, describeModel(m2));
    r.fixpoint = bytesEqual(serializeModel(m2), copy);
  } catch (e) {
    r.roundTripDiff = `writing or reading back fails: ${describeError(e)}`;
    return r;
  }

  const a = await tryCreate(original, threads);
  r.ortLoadsOriginal = typeof a !== 'string';
  if (typeof a === 'string') {
    r.skip = `ORT cannot load the original: ${a.replace(/^onnxruntime cannot load the model: /, '')}`;
    return r;
  }
  const b = await tryCreate(copy, threads);
  try {
    if (typeof b === 'string') {
      r.copyLoadError = b;
      return r;
    }
    const why = whyNotRunnable(m1);
    if (why !== undefined) {
      r.skip = why;
      return r;
    }
    let sets: DataSet[] | string;
    try {
      sets = readDataSets(dir);
    } catch (e) {
      sets = `test data does not decode: ${describeError(e)}`;
    }
    if (typeof sets === 'string') {
      r.skip = sets;
      return r;
    }
    const names = m1.graph.inputs.filter((i) => !m1.graph.initializers.has(i.name)).map((i) => i.name);
    if (sets.some((s) => s.inputs.length !== names.length)) {
      r.skip = `test data has a different number of inputs than the model (${names.length})`;
      return r;
    }
    let outA: Record<string, HostTensor>[];
    try {
      outA = await runAll(a, names, sets);
    } catch (e) {
      r.skip = `ORT fails to run the original: ${describeError(e).replace(/^onnxruntime failed to run the model: /, '')}`;
      return r;
    }
    r.dataSets = sets.length;
    let outB: Record<string, HostTensor>[];
    try {
      outB = await runAll(b, names, sets);
    } catch (e) {
      r.copyDiff = `ORT runs the original but fails on our copy: ${describeError(e)}`;
      r.copyBitIdentical = false;
      return r;
    }
    r.copyDiff = outA.map((o, i) => sameOutputs(o, outB[i]!)).find((d) => d !== undefined);
    r.copyBitIdentical = r.copyDiff === undefined;
    const outputNames = m1.graph.outputs.map((o) => o.name);
    const check = (outs: Record<string, HostTensor>[]) => {
      for (let s = 0; s < sets.length; s++) {
        const set = sets[s]!;
        for (let k = 0; k < set.outputs.length; k++) {
          const got = outs[s]![outputNames[k]!];
          if (got === undefined) return `data set ${s}: no output ${outputNames[k]}`;
          const d = compareExpected(set.outputs[k]!, got);
          if (d !== undefined) return `data set ${s}, output ${outputNames[k]}: ${d}`;
        }
      }
      return undefined;
    };
    r.expectedMismatch = check(outA);
    r.originalMatchesExpected = r.expectedMismatch === undefined;
    if (r.originalMatchesExpected) r.copyMatchesExpected = check(outB) === undefined;
    return r;
  } finally {
    await a.release();
    if (typeof b !== 'string') await b.release();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The whole suite.

export function listCases(root = TESTDATA_ROOT): { suite: string; test: string }[] {
  const cases: { suite: string; test: string }[] = [];
  for (const suite of SUITES) {
    const dir = join(root, suite);
    if (!existsSync(dir)) continue;
    for (const test of readdirSync(dir).sort())
      if (existsSync(join(dir, test, 'model.onnx'))) cases.push({ suite, test });
  }
  return cases;
}

const ORT_LOAD_REASONS: [RegExp, string][] = [
  [/Could not find an implementation/, 'ORT has no CPU kernel for the op at this opset or type'],
  [/is not a registered function\/op/, 'ORT does not register the training ops (ai.onnx.preview.training)'],
  [/Unsupported data type: 16/, 'ORT does not support bfloat16 here'],
  [/layout_ == 0/, 'ORT does not support batchwise RNN/GRU/LSTM (layout = 1)'],
  [/locale/, 'ORT StringNormalizer needs the en_US.UTF-8 locale, not installed'],
];

/** Reasons grouped into categories: the text up to the first ':' (details vary per model), ORT errors by kind. */
function category(reason: string): string {
  if (reason.startsWith('ORT cannot load the original')) {
    const known = ORT_LOAD_REASONS.find(([re]) => re.test(reason));
    return `ORT cannot load the original: ${known?.[1] ?? 'other'}`;
  }
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

const RANDOM_TESTS = /bernoulli|training_dropout/;

function mismatchCategory(random: boolean): string {
  return random
    ? 'random ops (Bernoulli, Dropout in training mode): ORT draws other numbers than the reference'
    : "ORT's result is outside the tolerance of ONNX's reference";
}

function add(map: Map<string, string[]>, key: string, id: string): void {
  map.set(key, [...(map.get(key) ?? []), id]);
}

export function summarize(results: CaseResult[], seconds: number): Summary {
  const s: Summary = {
    total: results.length,
    readOk: 0,
    roundTripIdentical: 0,
    fixpoint: 0,
    ortLoadable: 0,
    copyLoadable: 0,
    run: 0,
    originalMatchesExpected: 0,
    copyMatchesExpected: 0,
    copyBitIdentical: 0,
    notRun: new Map(),
    expectedMismatch: new Map(),
    failures: [],
    seconds,
  };
  for (const r of results) {
    const id = `${r.suite}/${r.test}`;
    if (r.readError !== undefined) {
      s.failures.push(`${id}: cannot read: ${r.readError}`);
      continue;
    }
    s.readOk++;
    if (r.roundTripDiff === undefined) s.roundTripIdentical++;
    else s.failures.push(`${id}: round trip differs at ${r.roundTripDiff}`);
    if (r.fixpoint === true) s.fixpoint++;
    else if (r.fixpoint === false) s.failures.push(`${id}: writing our copy again gives different bytes`);
    if (r.ortLoadsOriginal === true) s.ortLoadable++;
    if (r.ortLoadsOriginal === true && r.copyLoadError === undefined) s.copyLoadable++;
    if (r.copyLoadError !== undefined)
      s.failures.push(`${id}: ORT loads the original but not our copy: ${r.copyLoadError}`);
    if (r.skip !== undefined) add(s.notRun, category(r.skip), id);
    if (r.dataSets === undefined) continue;
    s.run++;
    if (r.copyBitIdentical === true) s.copyBitIdentical++;
    else s.failures.push(`${id}: ORT outputs on our copy differ from the original's: ${r.copyDiff}`);
    if (r.originalMatchesExpected === undefined) continue;
    if (r.originalMatchesExpected === true) {
      s.originalMatchesExpected++;
      if (r.copyMatchesExpected === true) s.copyMatchesExpected++;
      else s.failures.push(`${id}: ORT matches the expected outputs on the original but not on our copy`);
    } else {
      // ORT seeds random ops per process, so what they draw (and the first mismatch) changes from run to run.
      const random = RANDOM_TESTS.test(r.test);
      add(s.expectedMismatch, mismatchCategory(random), random ? id : `${id} (${r.expectedMismatch})`);
    }
  }
  return s;
}

export async function runConformance(
  opts: { root?: string; threads?: number; filter?: (suite: string, test: string) => boolean } = {},
): Promise<{ results: CaseResult[]; summary: Summary }> {
  const start = performance.now();
  const results: CaseResult[] = [];
  for (const c of listCases(opts.root)) {
    if (opts.filter !== undefined && !opts.filter(c.suite, c.test)) continue;
    results.push(await runCase(c.suite, c.test, opts.root, opts.threads ?? 1));
  }
  return { results, summary: summarize(results, (performance.now() - start) / 1000) };
}

function reasonTable(groups: Map<string, string[]>, examples: number): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| reason | models | examples |',
    '|---|---:|---|',
    ...[...groups]
      .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
      .map(([reason, ids]) => `| ${cell(reason)} | ${ids.length} | ${cell(ids.slice(0, examples).join(', '))} |`),
  ];
}

export function conformanceMarkdown(s: Summary, versions: { onnxruntime: string; command: string }): string {
  const lines = [
    '# ONNX test-suite conformance',
    '',
    `Generated by \`${versions.command}\`; do not edit by hand.`,
    '',
    "Every model of ONNX's own test suite (Debian `libonnx-testdata`, ONNX 1.12's test data) under",
    `\`${TESTDATA_ROOT}/{${SUITES.join(',')}}\` (\`real/\` holds only download links) is read, written`,
    'with `serializeModel` and read again; the two graphs must be identical (nodes, attributes, initializer bytes,',
    'inputs, outputs, types, everything the IR keeps), and writing the copy again must give the same bytes.',
    `Then ONNX Runtime ${versions.onnxruntime} (one thread) loads the original bytes and our copy and runs both on the`,
    "test's inputs: their outputs must be identical bit for bit, and where the original's outputs match the expected",
    `ones (rtol ${RTOL}, atol ${ATOL}, as in ONNX's backend tests), the copy's must too. The test fails on any difference.`,
    '',
    '| | models |',
    '|---|---:|',
    `| total | ${s.total} |`,
    `| read without error | ${s.readOk} |`,
    `| round trip identical (read → write → read) | ${s.roundTripIdentical} |`,
    `| writing is a fixpoint (our copy written again is byte-identical) | ${s.fixpoint} |`,
    `| ORT loads the original | ${s.ortLoadable} |`,
    `| ORT loads our copy (of those) | ${s.copyLoadable} |`,
    `| run on their test data | ${s.run} |`,
    `| ORT outputs on our copy bit-identical to the original's | ${s.copyBitIdentical} |`,
    `| ORT on the original matches the expected outputs | ${s.originalMatchesExpected} |`,
    `| ORT on our copy matches the expected outputs (of those) | ${s.copyMatchesExpected} |`,
    `| failures | ${s.failures.length} |`,
    '',
    '## Not run on their test data, by reason',
    '',
    "Round trip and ORT loading are still checked for these; only the run on the test's inputs is skipped.",
    '',
    ...reasonTable(s.notRun, 3),
    '',
    '## Run, but ORT on the original does not match the expected outputs',
    '',
    "Our copies still give ORT's outputs on the original bit for bit; these are ORT's differences from ONNX's",
    'reference implementation, not ours.',
    '',
    ...reasonTable(s.expectedMismatch, 6),
    '',
  ];
  if (s.failures.length > 0) lines.push('## Failures', '', ...s.failures.map((f) => `- ${f}`), '');
  return lines.join('\n');
}
