// Flag parsing for every command: node's parseArgs plus help text from the same option table, so the help can
// never drift from what is accepted. Usage errors become exit code 2.

import { parseArgs } from 'node:util';
import { usageError } from '../errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** shown in --help; `<value>` placeholder for string options */
  help: string;
  value?: string;
  default?: string | boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** number of positional arguments allowed (min, max) */
  positionals: [number, number];
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
    const short = o.short ? `-${o.short}, ` : '    ';
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    return `  ${short}${flag.padEnd(28)} ${o.help}${def}`;
  });
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}\n  -h, --help${' '.repeat(26)}show this help\n`;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type };
    if (o.short !== undefined) options[name].short = o.short;
    if (o.multiple) options[name].multiple = true;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(`${spec.name}: ${(e as Error).message.split('\n')[0]}`, `see \`quantlens ${spec.name} --help\``);
  }
  const help = parsed.values.help === true;
  const [min, max] = spec.positionals;
  if (!help && (parsed.positionals.length < min || parsed.positionals.length > max))
    throw usageError(
      `${spec.name}: expected ${spec.usage.replace(/^quantlens /, '')}`,
      `see \`quantlens ${spec.name} --help\``,
    );
  const values: Parsed['values'] = {};
  for (const [name, o] of Object.entries(spec.options))
    values[name] = (parsed.values[name] as Parsed['values'][string]) ?? o.default;
  return { values, positionals: parsed.positionals, help };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function int(p: Parsed, name: string, opts: { min?: number } = {}): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw usageError(`--${name} must be an integer, got "${v}"`);
  const n = Number(v);
  if (opts.min !== undefined && n < opts.min) throw usageError(`--${name} must be at least ${opts.min}, got ${n}`);
  return n;
}

export function numberList(p: Parsed, name: string): number[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.some((x) => !Number.isFinite(x))) throw usageError(`--${name} must be comma-separated numbers, got "${v}"`);
  return parts;
}
