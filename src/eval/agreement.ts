// Comparing a (quantized) model's outputs with a reference model's on the same inputs: output SQNR, cosine
// similarity and top-1 agreement. Needs no labels.

import type { Model } from '../onnx/ir.js';
import type { Dataset } from '../data/types.js';
import { Session, bindFeeds, type SessionOptions } from '../runtime/index.js';
import { dataError } from '../errors.js';
import { prefetch } from '../util/prefetch.js';
import { spreadIndices } from './subset.js';

export interface AgreementResult {
  n: number;
  output: string;
  /** 10·log10(Σ ref² / Σ (ref − out)²) over all outputs, in dB */
  sqnrDb: number;
  /** mean over items of cos(ref_i, out_i) */
  cosine: number;
  /** share of items whose argmax agrees */
  top1Agreement: number;
}

/** Accumulates the agreement statistics batch by batch (float64 sums). */
export class AgreementAccumulator {
  private signal = 0;
  private noise = 0;
  private cosSum = 0;
  private agree = 0;
  n = 0;

  add(ref: Float32Array, out: Float32Array, rows: number): void {
    if (ref.length !== out.length)
      throw dataError(`reference and model outputs differ in size (${ref.length} vs ${out.length})`);
    const width = ref.length / rows;
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      let nr = 0;
      let no = 0;
      let bestR = 0;
      let bestO = 0;
      for (let c = 0; c < width; c++) {
        const a = ref[r * width + c]!;
        const b = out[r * width + c]!;
        this.signal += a * a;
        this.noise += (a - b) * (a - b);
        dot += a * b;
        nr += a * a;
        no += b * b;
        if (a > ref[r * width + bestR]!) bestR = c;
        if (b > out[r * width + bestO]!) bestO = c;
      }
      this.cosSum += nr === 0 || no === 0 ? (nr === no ? 1 : 0) : dot / Math.sqrt(nr * no);
      if (bestR === bestO) this.agree++;
      this.n++;
    }
  }

  result(output: string): AgreementResult {
    return {
      n: this.n,
      output,
      sqnrDb: this.noise === 0 ? Infinity : 10 * Math.log10(this.signal / this.noise),
      cosine: this.n === 0 ? 0 : this.cosSum / this.n,
      top1Agreement: this.n === 0 ? 0 : this.agree / this.n,
    };
  }
}

export async function evaluateAgreement(
  model: Model,
  reference: Model,
  dataset: Dataset,
  output: string,
  opts: SessionOptions & { batch?: number; limit?: number } = {},
): Promise<AgreementResult> {
  const [a, b] = await Promise.all([Session.create(model, opts), Session.create(reference, opts)]);
  const acc = new AgreementAccumulator();
  try {
    const indices = spreadIndices(dataset.size, opts.limit);
    for await (const batch of prefetch(dataset.batches(opts.batch ?? 64, indices === undefined ? {} : { indices }))) {
      const feeds = bindFeeds(a.inputs, batch.inputs);
      const [out, ref] = [await a.run(feeds, [output]), await b.run(feeds, [output])];
      const o = out[output]!;
      acc.add(ref[output]!.data as Float32Array, o.data as Float32Array, o.dims[0] ?? 1);
    }
  } finally {
    await Promise.all([a.release(), b.release()]);
  }
  return acc.result(output);
}
