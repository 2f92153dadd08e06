// `quantlens sample <unet> --steps N --samples M --out grid.png`: generate images with DDIM/DDPM and save them as
// one grid PNG (mapped (x+1)/2, clamped, the training padding cropped), or the raw x_0 array as .npz.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { imageGrid, runMeta, sampleRun, toUint8Images } from '../diffusion/index.js';
import { writeNpz } from '../data/npz.js';
import { describeError, ioError, usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommandSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import { loadModel, runtimeOptions, runtimeSettings } from './common.js';
import {
  batchFlag,
  fileSha256,
  modelPad,
  openCheckpoint,
  samplerConfig,
  samplerOptions,
  seedFlag,
} from './diffusion-options.js';
import { print, printJson, progress } from './output.js';

export const sampleSpec: CommandSpec = {
  name: 'sample',
  summary: 'Generate images with a diffusion UNet (DDIM or DDPM) and save a grid PNG.',
  usage: 'quantlens sample <unet> --samples M --out grid.png [--steps N] [--eta E] [--seed S] [--batch B] [--json]',
  positionals: [1, 1],
  options: {
    samples: { type: 'string', value: 'M', help: 'number of images', default: '64' },
    out: { type: 'string', value: 'file', help: 'grid .png, or .npz for the raw x_0 array [M, C, H, W]' },
    cols: { type: 'string', value: 'n', help: 'grid columns (default: ceil(sqrt(M)))' },
    ...samplerOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

async function writePng(path: string, x0: HostTensor, pad: number, cols: number | undefined): Promise<void> {
  const imgs = toUint8Images(x0, pad);
  if (imgs.channels !== 1 && imgs.channels !== 3)
    throw usageError(
      `samples have ${imgs.channels} channels; a PNG grid needs 1 or 3`,
      'write --out samples.npz instead',
    );
  const grid = imageGrid(imgs, cols);
  let png: Buffer;
  try {
    const img = sharp(grid.data, { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 } });
    // sharp widens raw grey to sRGB unless told otherwise; keep a grey grid a 1-channel PNG.
    png = await (grid.channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
  } catch (e) {
    throw ioError(`cannot encode the PNG: ${describeError(e)}`);
  }
  writeFileAtomic(path, png);
}

export async function runSample(p: Parsed): Promise<void> {
  const json = flag(p, 'json');
  const out = str(p, 'out');
  if (out === undefined) throw usageError('sample needs --out <file.png|file.npz>');
  const npz = /\.npz$/i.test(out);
  if (!npz && !/\.png$/i.test(out)) throw usageError(`--out must end in .png or .npz, got ${out}`);
  mkdirSync(dirname(out), { recursive: true });
  const samples = int(p, 'samples', { min: 1 }) ?? 64;
  const cols = int(p, 'cols', { min: 1 });
  const loaded = loadModel(p.positionals[0]!);
  const config = samplerConfig(p, loaded, json);
  const seed = seedFlag(p);
  const batch = batchFlag(p);
  const checkpoint = openCheckpoint(
    p,
    'sample',
    runMeta('sample', fileSha256(loaded.path), config, { seed, samples, batch }),
  );
  const start = performance.now();
  let x0: HostTensor | undefined;
  let sampling = 0;
  let computed = 0;
  for await (const b of sampleRun(loaded.model, config, {
    ...runtimeSettings(p),
    seed,
    samples,
    batch,
    checkpoint,
    onProgress: progress('sample', json),
  })) {
    const [n, ...shape] = b.x0.dims as [number, ...number[]];
    x0 ??= {
      dtype: 'float32',
      dims: [samples, ...shape],
      data: new Float32Array(samples * shape.reduce((a, c) => a * c, 1)),
    };
    (x0.data as Float32Array).set(b.x0.data as Float32Array, b.first * (b.x0.data.length / n));
    sampling += b.seconds;
    if (b.seconds > 0) computed += n;
  }
  if (npz) writeNpz(out, new Map([['x0', x0!]]));
  else await writePng(out, x0!, modelPad(loaded), cols);
  checkpoint.remove();
  const result = {
    task: 'sample',
    out,
    samples,
    steps: config.steps,
    sampler: config.sampler,
    eta: config.eta,
    skip: config.skip,
    seed,
    resumedBatches: checkpoint.resumed,
    imagesPerSec: sampling > 0 ? computed / sampling : 0,
    seconds: (performance.now() - start) / 1000,
  };
  if (json) {
    printJson(result);
    return;
  }
  print(
    `wrote      ${out} (${samples} samples, ${config.sampler} ${config.steps} steps, eta ${config.eta}, seed ${seed})`,
  );
  print(`speed      ${result.imagesPerSec.toFixed(2)} images/s`);
}
