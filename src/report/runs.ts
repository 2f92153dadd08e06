// Quantization runs in the report: `quantize` writes a `<out>.quant.json` sidecar per run; the report shows a
// summary row per run and each run's quantizers. Sidecars are read defensively (they may come from another
// version or a hand edit): unknown shapes become blanks, never exceptions. Imports only types.

export interface RunQuantizer {
  key: string;
  tensor: string;
  role: string;
  observer: string;
  bits: number | null;
  granularity: string;
  scaleMin: number | null;
  scaleMax: number | null;
  kind: string;
  qdq: string;
}

export interface RunSummary {
  /** where it was read from */
  source: string;
  method: string;
  wBits: number | null;
  aBits: number | null;
  model: string;
  calibration: string;
  quantlens: string;
  qdq: string;
  quantizers: RunQuantizer[];
  extra: [string, string][];
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** True when a parsed JSON document looks like a quantize sidecar. */
export function isSidecar(doc: unknown): boolean {
  const o = obj(doc);
  return Array.isArray(o.quantizers) && typeof o.method === 'string';
}

function quantizer(v: unknown): RunQuantizer {
  const q = obj(v);
  const p = obj(q.params);
  const scales = Array.isArray(p.scale)
    ? p.scale.filter((s): s is number => typeof s === 'number')
    : typeof p.scale === 'number'
      ? [p.scale]
      : [];
  return {
    key: str(q.key),
    tensor: str(q.tensor),
    role: str(q.role),
    observer: str(q.observer),
    bits: numOrNull(q.bits),
    granularity: q.axis === null || q.axis === undefined ? 'per tensor' : `per channel (axis ${str(q.axis)})`,
    scaleMin: scales.length > 0 ? Math.min(...scales) : null,
    scaleMax: scales.length > 0 ? Math.max(...scales) : null,
    kind: str(p.kind),
    qdq: str(q.qdq),
  };
}

export function summarizeSidecar(doc: unknown, source: string): RunSummary {
  const o = obj(doc);
  const cal = obj(o.calibration);
  const qdq = obj(o.qdq);
  const emulated = Array.isArray(qdq.emulated) ? qdq.emulated.length : 0;
  const extra = Object.entries(obj(o.extra))
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    .map(([k, v]): [string, string] => [k, String(v)]);
  return {
    source,
    method: str(o.method),
    wBits: numOrNull(o.wBits),
    aBits: numOrNull(o.aBits),
    model: str(obj(o.source).model),
    calibration:
      cal.n === undefined ? '' : `${str(cal.n)} items of ${str(cal.data)} (${str(cal.split)}, seed ${str(cal.seed)})`,
    quantlens: str(o.quantlens),
    qdq:
      qdq.written === true ? `written, ${emulated} emulated` : `skipped${qdq.skipped ? `: ${str(qdq.skipped)}` : ''}`,
    quantizers: (o.quantizers as unknown[]).map(quantizer),
    extra,
  };
}
