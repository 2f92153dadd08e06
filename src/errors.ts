// Typed errors for everything a user can get wrong. The CLI prints `error: <message>` and the hint for these,
// never a stack trace; anything else reaching the CLI is a bug and is reported as an internal error.

export type ErrorKind = 'usage' | 'model' | 'data' | 'io' | 'runtime' | 'unsupported' | 'limit';

/**
 * Shows control characters as `\xNN`. Messages name nodes and tensors, and model files put arbitrary bytes in those
 * names: escaped, a message stays one line and cannot move the cursor or recolour a terminal.
 */
export function escapeControls(text: string, keepNewlines = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    keepNewlines && (c === '\n' || c === '\t') ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export class QuantlensError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(escapeControls(message), options);
    this.name = 'QuantlensError';
    this.kind = kind;
    this.hint = hint === undefined ? undefined : escapeControls(hint);
  }
}

export const usageError = (message: string, hint?: string) => new QuantlensError('usage', message, hint);
export const modelError = (message: string, hint?: string, cause?: unknown) =>
  new QuantlensError('model', message, hint, { cause });
export const dataError = (message: string, hint?: string, cause?: unknown) =>
  new QuantlensError('data', message, hint, { cause });
export const ioError = (message: string, hint?: string, cause?: unknown) =>
  new QuantlensError('io', message, hint, { cause });
export const runtimeError = (message: string, hint?: string, cause?: unknown) =>
  new QuantlensError('runtime', message, hint, { cause });
export const unsupportedError = (message: string, hint?: string) => new QuantlensError('unsupported', message, hint);
export const limitError = (message: string, hint?: string) => new QuantlensError('limit', message, hint);

export function isQuantlensError(e: unknown): e is QuantlensError {
  return e instanceof QuantlensError;
}

/** A short description of any thrown value, for wrapping foreign errors into one line. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name;
  return String(e);
}
