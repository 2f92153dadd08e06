import { describe, expect, it } from 'vitest';
import { imageGrid, toUint8Images } from './images.js';

describe('toUint8Images', () => {
  it('maps (x+1)/2, clamps, rounds like save_image and crops the padding', () => {
    const x = Float32Array.from({ length: 16 }, () => -1);
    x[5] = 1; // row 1, col 1
    x[6] = 0; // 0.5 -> 127.5 + 0.5 -> 128
    x[9] = 3; // clamped to 255
    x[10] = -0.999; // 0.0005 * 255 + 0.5 -> 0
    const imgs = toUint8Images({ dtype: 'float32', dims: [1, 1, 4, 4], data: x }, 1);
    expect([imgs.n, imgs.channels, imgs.height, imgs.width]).toEqual([1, 1, 2, 2]);
    expect(Array.from(imgs.data)).toEqual([255, 128, 255, 0]);
    expect(() => toUint8Images({ dtype: 'float32', dims: [1, 1, 4, 4], data: x }, 2)).toThrow(/padding/);
  });
});

describe('imageGrid', () => {
  it('lays images out row-major with gaps, interleaving channels', () => {
    const data = Uint8Array.from([1, 2, 3]); // three 1x1 grey images
    const g = imageGrid({ data, n: 3, channels: 1, height: 1, width: 1 }, 2, 1);
    expect([g.width, g.height]).toEqual([5, 5]);
    expect(Array.from(g.data)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
    const rgb = imageGrid({ data: Uint8Array.from([10, 20, 30]), n: 1, channels: 3, height: 1, width: 1 }, 1, 0);
    expect(Array.from(rgb.data)).toEqual([10, 20, 30]);
  });
});
