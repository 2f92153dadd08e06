// Gzip is recognised by its magic bytes, never by the file name: mirrors serve .gz files already unpacked (and
// unpacked files renamed), so the extension is not evidence.

import { gunzipSync } from 'node:zlib';
import { dataError, describeError } from '../errors.js';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes themselves, or their gunzipped content when they are gzip data. */
export function maybeGunzip(bytes: Uint8Array, what: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw dataError(`${what} is a damaged gzip file (${describeError(e)})`, 'download or copy it again');
  }
}
