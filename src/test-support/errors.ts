// Assertions shared by tests of user-facing errors: a typed QuantlensError, of the expected kind, whose message is
// one line (what the CLI prints) and names what is wrong.

import { expect } from 'vitest';
import { QuantlensError, type ErrorKind } from '../errors.js';
import type { Batch } from '../data/types.js';

function check(err: unknown, message: RegExp, kind?: ErrorKind): void {
  expect(err).toBeInstanceOf(QuantlensError);
  if (kind !== undefined) expect((err as QuantlensError).kind).toBe(kind);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
}

/** `fn` throws a one-line QuantlensError matching `message` (and of `kind`, when given). */
export function expectError(fn: () => unknown, message: RegExp, kind?: ErrorKind): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  check(err, message, kind);
}

/** `p` rejects with a one-line QuantlensError matching `message` (and of `kind`, when given). */
export async function expectReject(p: Promise<unknown>, message: RegExp, kind?: ErrorKind): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  check(err, message, kind);
}

/** Every batch of a dataset's stream, in order. */
export async function collectBatches(batches: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}
