// RepQ-ViT behind the method registry's one signature: option words (from `quantize` flags or `table`'s
// `repq-vit:postLn=layer,...`) become settings, and the result carries the sidecar's `extra`.

import { usageError } from '../../errors.js';
import type { MethodRequest, MethodResult, MethodRunner } from '../registry.js';
import { runSettings } from '../run-settings.js';
import { runRepqVit } from './pipeline.js';
import { checkModes, type RepqSettings } from './targets.js';

const KEYS: Record<string, 'postLn' | 'postSoftmax' | 'roundZeroPoint'> = {
  postLn: 'postLn',
  'post-ln': 'postLn',
  postSoftmax: 'postSoftmax',
  'post-softmax': 'postSoftmax',
  roundZeroPoint: 'roundZeroPoint',
  'round-zero-point': 'roundZeroPoint',
};

export function repqSettings(req: Pick<MethodRequest, 'wBits' | 'aBits' | 'options'>): RepqSettings {
  const o: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(req.options ?? {})) {
    const key = KEYS[k];
    if (key === undefined)
      throw usageError(
        `repq-vit has no option ${k}`,
        'options: postLn=layer|channel|reparam, postSoftmax=..., roundZeroPoint',
      );
    o[key] = v;
  }
  const round = o.roundZeroPoint ?? false;
  if (typeof round === 'string' && round !== 'true' && round !== 'false')
    throw usageError(`roundZeroPoint must be true or false, got ${round}`);
  const modes = checkModes(String(o.postLn ?? 'reparam'), String(o.postSoftmax ?? 'reparam'));
  return { wBits: req.wBits, aBits: req.aBits, ...modes, roundZeroPoint: round === true || round === 'true' };
}

export const runRepqMethod: MethodRunner = async (model, calibFeeds, req): Promise<MethodResult> => {
  const { totalBatches: _all, ...settings } = runSettings(req); // one calibration batch: no batch count
  const r = await runRepqVit(model, repqSettings(req), calibFeeds, settings);
  return {
    plan: r.plan,
    simulated: r.simulated,
    qdq: r.qdq,
    qdqReport: r.qdqReport,
    calibBatches: 1,
    calibSeconds: r.calibration.seconds.total,
    extra: r.extra,
  };
};
