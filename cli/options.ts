/**
 * One option spec per command, read from flags, then the environment (PC2_<NAME>), then a JSON config
 * file (--config), then defaults. Unknown flags and unknown config keys are errors, not surprises.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from './errors.ts';

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
}

export type Spec = Record<string, OptionSpec>;
export type Parsed<S extends Spec> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T>
    ? S[K]['required'] extends true
      ? ValueOf<T>
      : ValueOf<T> | undefined
    : never;
};

const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const envName = (key: string) => 'PC2_' + flagName(key).replace(/-/g, '_').toUpperCase();

export function helpText(usage: string, spec: Spec): string {
  const lines = Object.entries(spec).map(([key, o]) => {
    const flag = `--${flagName(key)}${o.kind === 'boolean' ? '' : ` ${o.value ?? '<' + o.kind + '>'}`}`;
    const def =
      o.default !== undefined && o.default !== false
        ? ` (default ${JSON.stringify(o.default)})`
        : '';
    const rep = o.kind === 'list' ? ' (repeatable)' : '';
    return `  ${flag.padEnd(30)} ${o.description}${rep}${def}  [env ${envName(key)}]`;
  });
  return `${usage}\n\nOptions:\n${lines.join('\n')}\n  ${'--config <file>'.padEnd(30)} JSON file with any of the options above (camelCase keys)\n  ${'--help'.padEnd(30)} show this help`;
}

function coerce(key: string, o: OptionSpec, raw: unknown, source: string): unknown {
  const fail = (what: string) =>
    new CliError(`${source} ${flagName(key)}: expected ${what}, got ${JSON.stringify(raw)}`, 2);
  switch (o.kind) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (raw === '' || !Number.isFinite(n)) throw fail('a number');
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw fail('true or false');
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      if (typeof raw === 'string')
        return raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      throw fail('a list of strings');
    default:
      if (typeof raw !== 'string') throw fail('a string');
      return raw;
  }
}

/** Parses argv for a command. Returns null when --help was asked (help already printed). */
export function parseOptions<S extends Spec>(
  args: string[],
  spec: S,
  usage: string,
  env: Record<string, string | undefined> = process.env,
): { options: Parsed<S>; positionals: string[] } | null {
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
    throw new CliError(`${(e as Error).message}\n\n${helpText(usage, spec)}`, 2);
  }
  if (parsed.values.help) {
    console.log(helpText(usage, spec));
    return null;
  }
  let file: Record<string, unknown> = {};
  const configPath = (parsed.values.config as string | undefined) ?? env.PC2_CONFIG;
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read config file ${configPath}: ${(e as Error).message}`, 2);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file))
      throw new CliError(`config file ${configPath} must hold a JSON object`, 2);
    for (const key of Object.keys(file)) {
      if (!(key in spec))
        throw new CliError(`config file ${configPath}: unknown option "${key}"`, 2);
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
    else if (file[key] !== undefined) value = coerce(key, o, file[key], 'config');
    else value = o.default;
    if (o.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new CliError(`--${flagName(key)} is required\n\n${helpText(usage, spec)}`, 2);
    }
    options[key] = value;
  }
  return { options: options as Parsed<S>, positionals: parsed.positionals };
}
