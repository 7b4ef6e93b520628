/**
 * One option spec per command, read from flags, then the environment (PC2_<NAME>), then a JSON config
 * file (--config), then defaults. Every value is checked here, once (type, range, unit, URL scheme,
 * choices): a bad value is a usage error (exit 2) naming the option and where it came from. Unknown
 * flags and unknown config keys are errors, not surprises. `--log-level` and `--log-format` belong
 * to every command.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './errors.ts';

type Kind = 'string' | 'number' | 'boolean' | 'list';
type ValueOf<K extends Kind> = K extends 'string'
  ? string
  : K extends 'number'
    ? number
    : K extends 'boolean'
      ? boolean
      : string[];

export interface OptionSpec<K extends Kind = Kind> {
  kind: K;
  description: string;
  default?: ValueOf<K>;
  required?: boolean;
  /** Placeholder shown in help, e.g. <url>. */
  value?: string;
  /** Numbers: whole numbers only. */
  integer?: boolean;
  /** Numbers: inclusive bounds. */
  min?: number;
  max?: number;
  /** Strings (and each list item): one of these. */
  choices?: readonly string[];
  /** Strings (and each list item): an absolute URL with one of these schemes, e.g. ['http:', 'https:']. */
  url?: readonly string[];
  /** Any further check: returns what is wrong, or undefined. Runs on each list item. */
  check?: (value: string) => string | undefined;
}

export type Spec = Record<string, OptionSpec>;
export type Parsed<S extends Spec> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T>
    ? S[K]['required'] extends true
      ? ValueOf<T>
      : S[K]['default'] extends ValueOf<T>
        ? ValueOf<T>
        : ValueOf<T> | undefined
    : never;
} & CommonOptions;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export interface CommonOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The options every command has. */
export const COMMON_SPEC = {
  logLevel: {
    kind: 'string',
    value: 'debug|info|warn|error',
    description: 'least severe log line written (to standard error)',
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
  },
  logFormat: {
    kind: 'string',
    value: 'text|json',
    description: 'log lines as text, or one JSON object per line',
    default: 'text',
    choices: ['text', 'json'],
  },
} as const satisfies Spec;

export const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
export const envName = (key: string) => 'PC2_' + flagName(key).replace(/-/g, '_').toUpperCase();

export function helpText(usage: string, spec: Spec): string {
  const lines = Object.entries({ ...COMMON_SPEC, ...spec } as Spec).map(([key, o]) => {
    const flag = `--${flagName(key)}${o.kind === 'boolean' ? '' : ` ${o.value ?? '<' + o.kind + '>'}`}`;
    const def =
      o.default !== undefined &&
      o.default !== false &&
      !(Array.isArray(o.default) && !o.default.length)
        ? ` (default ${JSON.stringify(o.default)})`
        : '';
    const rep = o.kind === 'list' ? ' (repeatable)' : '';
    return `  ${flag.padEnd(30)} ${o.description}${rep}${def}  [env ${envName(key)}]`;
  });
  return `${usage}\n\nOptions:\n${lines.join('\n')}\n  ${'--config <file>'.padEnd(30)} JSON file with any of the options above (camelCase keys)\n  ${'--help'.padEnd(30)} show this help`;
}

/** What is wrong with one string value (a string option, or one list item), or undefined. */
function checkText(o: OptionSpec, text: string): string | undefined {
  if (o.choices && !o.choices.includes(text)) return `one of ${o.choices.join(', ')}`;
  if (o.url) {
    if (!URL.canParse(text)) return `a URL (${o.url.map((s) => s + '//').join(' or ')}...)`;
    const u = new URL(text);
    if (!o.url.includes(u.protocol)) return `a ${o.url.map((s) => s + '//').join(' or ')} URL`;
    if (!u.hostname) return 'a URL with a host';
    if (u.username || u.password) return 'a URL without user or password';
  }
  return o.check?.(text);
}

function coerce(key: string, o: OptionSpec, raw: unknown, source: string): unknown {
  const fail = (what: string) =>
    new CliError(
      `${source === '--' ? `--${flagName(key)}` : `${source} (${flagName(key)})`}: expected ${what}, got ${JSON.stringify(raw)}`,
      EXIT.USAGE,
    );
  switch (o.kind) {
    case 'number': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : NaN;
      if (!Number.isFinite(n)) throw fail('a number');
      if (o.integer && !Number.isInteger(n)) throw fail('a whole number');
      if (o.min !== undefined && n < o.min)
        throw fail(
          o.max !== undefined ? `a number from ${o.min} to ${o.max}` : `a number >= ${o.min}`,
        );
      if (o.max !== undefined && n > o.max)
        throw fail(
          o.min !== undefined ? `a number from ${o.min} to ${o.max}` : `a number <= ${o.max}`,
        );
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw fail('true or false');
    case 'list': {
      let items: string[];
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) items = raw;
      else if (typeof raw === 'string')
        items = raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      else throw fail('a list of strings');
      for (const item of items) {
        const wrong = checkText(o, item);
        if (wrong) throw fail(`each item ${wrong}`);
      }
      return items;
    }
    default: {
      if (typeof raw !== 'string') throw fail('a string');
      const wrong = checkText(o, raw);
      if (wrong) throw fail(wrong);
      return raw;
    }
  }
}

/** Parses argv for a command. Returns null when --help was asked (help already printed). */
export function parseOptions<S extends Spec>(
  args: string[],
  commandSpec: S,
  usage: string,
  env: Record<string, string | undefined> = process.env,
): { options: Parsed<S>; positionals: string[] } | null {
  const spec: Spec = { ...COMMON_SPEC, ...commandSpec };
  const parseSpec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
  };
  for (const [key, o] of Object.entries(spec)) {
    parseSpec[flagName(key)] = {
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      multiple: o.kind === 'list',
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: parseSpec, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${helpText(usage, commandSpec)}`, EXIT.USAGE);
  }
  if (parsed.values.help) {
    console.log(helpText(usage, commandSpec));
    return null;
  }
  let file: Record<string, unknown> = {};
  const configPath = (parsed.values.config as string | undefined) ?? env.PC2_CONFIG;
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new CliError(
        `cannot read config file ${configPath}: ${(e as Error).message}`,
        EXIT.USAGE,
      );
    }
    if (!file || typeof file !== 'object' || Array.isArray(file))
      throw new CliError(`config file ${configPath} must hold a JSON object`, EXIT.USAGE);
    for (const key of Object.keys(file)) {
      if (!(key in spec))
        throw new CliError(`config file ${configPath}: unknown option "${key}"`, EXIT.USAGE);
    }
  }
  const options: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(spec)) {
    const flag = parsed.values[flagName(key)];
    const fromEnv = env[envName(key)];
    let value: unknown;
    if (flag !== undefined && !(Array.isArray(flag) && flag.length === 0))
      value = coerce(key, o, flag, '--');
    else if (fromEnv !== undefined) value = coerce(key, o, fromEnv, envName(key));
    else if (file[key] !== undefined) value = coerce(key, o, file[key], `config ${configPath}`);
    else value = o.default;
    if (o.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new CliError(
        `--${flagName(key)} is required\n\n${helpText(usage, commandSpec)}`,
        EXIT.USAGE,
      );
    }
    options[key] = value;
  }
  return { options: options as Parsed<S>, positionals: parsed.positionals };
}

/** The command's options as a JSON config file would hold them (what `pc2 service install` writes). */
export function configOf(spec: Spec, options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, o] of Object.entries({ ...COMMON_SPEC, ...spec } as Spec)) {
    const value = options[key];
    if (value === undefined || value === o.default) continue;
    if (Array.isArray(value) && Array.isArray(o.default) && value.join() === o.default.join())
      continue;
    out[key] = value;
  }
  return out;
}
