import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { cifar10Available, ensureCifar10 } from './cifar10-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureCifar10', () => {
  // A stand-in archive with the real one's layout: test/<class>/<NNNN>.jpg.
  const src = join(dir, 'src');
  const archiveDir = join(dir, 'archives');
  for (const cls of ['airplane', 'truck']) {
    mkdirSync(join(src, 'test', cls), { recursive: true });
    writeFileSync(join(src, 'test', cls, '0000.jpg'), 'jpeg bytes');
  }
  mkdirSync(archiveDir);
  execFileSync('tar', ['-czf', join(archiveDir, 'test.tar.gz'), '-C', src, 'test']);

  it('unpacks once into <cache>/cifar10/<split>, leaving no temporary folders', async () => {
    const cacheDir = join(dir, 'cache');
    const opts = { archiveDir, cacheDir };
    expect(cifar10Available('test', opts)).toBe(true);
    expect(cifar10Available('train', opts)).toBe(false);
    // Two at once, as two test workers would: both get the same complete folder.
    const [a, b] = await Promise.all([ensureCifar10('test', opts), ensureCifar10('test', opts)]);
    expect(a).toBe(join(cacheDir, 'cifar10', 'test'));
    expect(b).toBe(a);
    expect(readdirSync(a).sort()).toEqual(['airplane', 'truck']);
    expect(readdirSync(join(cacheDir, 'cifar10'))).toEqual(['test']);
    // Already there: returned without the archive.
    expect(await ensureCifar10('test', { cacheDir, archiveDir: join(dir, 'gone') })).toBe(a);
  });

  it('says where to point it when the archive is missing', async () => {
    const err = await ensureCifar10('train', { archiveDir, cacheDir: join(dir, 'c2') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuantlensError);
    expect((err as QuantlensError).message).toMatch(/the CIFAR-10 train archive was not found at .*train\.tar\.gz/);
    expect((err as QuantlensError).hint).toMatch(/QUANTLENS_CIFAR10_DIR/);
    expect(existsSync(join(dir, 'c2', 'cifar10', 'train'))).toBe(false);
  });
});
