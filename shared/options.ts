/**
 * Options objects checked against one declaration each. A library lists every option it takes once,
 * with its rule (type, range, default), and `satisfies Rules<TheOptions>` holds that list to the
 * options interface: a name missing from it, or one the interface does not have, does not compile.
 * At run time `checkOptions` refuses what is not an object, names it does not know, and values its
 * rules refuse, with a message naming the option; the result is the options with defaults filled in,
 * typed from the rules. Why this and not a schema library: docs/layout.md, "Options".
 */
import { SharedError } from './errors.ts';

/** Checks one option's value (undefined when it was left out) and returns the value to use. Throws SharedError INVALID_OPTIONS. */
export type Rule<T> = (value: unknown, name: string) => T;

/** Exactly one rule per option of `O`, each giving a value of the option's type. */
export type Rules<O> = { readonly [K in keyof O]-?: Rule<O[K]> };

/** Exactly one rule per field of `O`, each free to give a parsed form of it (an Id for its text). */
export type Parsers<O> = { readonly [K in keyof O]-?: Rule<unknown> };

/** What `checkOptions` returns for a set of rules. */
export type Checked<R> = { -readonly [K in keyof R]: R[K] extends Rule<infer T> ? T : never };

/** Refuses an option from inside a rule of one's own. */
export const refuse = (message: string): never => {
  throw new SharedError('INVALID_OPTIONS', message);
};

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'a list' : 'an object';
  return String(value);
}

/** A required value for which `test` holds; `expected` says what it must be ("an integer from 1 to 64"). */
export function rule<T>(test: (value: unknown) => boolean, expected: string): Rule<T> {
  return (value, name) => {
    if (value === undefined) return refuse(`${name} is required`);
    if (!test(value)) return refuse(`${name} must be ${expected}, got ${show(value)}`);
    return value as T;
  };
}

/** The same rule with `fallback` for a value left out. */
export const withDefault =
  <T>(check: Rule<T>, fallback: T): Rule<T> =>
  (value, name) =>
    value === undefined ? fallback : check(value, name);

/** The same rule, or undefined for a value left out. */
export const optional =
  <T>(check: Rule<T>): Rule<T | undefined> =>
  (value, name) =>
    value === undefined ? undefined : check(value, name);

export const integer = (min: number, max: number): Rule<number> =>
  rule(
    (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
    `an integer from ${min} to ${max}`,
  );

/** A finite number >= min (durations in ms, sizes). */
export const atLeast = (min: number): Rule<number> =>
  rule((v) => typeof v === 'number' && Number.isFinite(v) && v >= min, `a number >= ${min}`);

export const boolean: Rule<boolean> = rule((v) => typeof v === 'boolean', 'true or false');
export const string: Rule<string> = rule((v) => typeof v === 'string', 'a string');
export const nonEmptyString: Rule<string> = rule(
  (v) => typeof v === 'string' && v !== '',
  'a non-empty string',
);
export const oneOf = <T extends string>(...values: T[]): Rule<T> =>
  rule((v) => values.includes(v as T), values.join(' or '));
export const list =
  <T>(item: Rule<T>): Rule<T[]> =>
  (value, name) =>
    Array.isArray(value)
      ? value.map((v, i) => item(v, `${name}[${i}]`))
      : refuse(`${name} must be a list, got ${show(value)}`);

/** A function (callbacks, injected clocks and factories); its signature is the interface's to say. */
export const fn = <F extends (...args: never[]) => unknown>(): Rule<F> =>
  rule((v) => typeof v === 'function', 'a function');

/** An instance of `type` (keys, ids). */
export const instance = <T>(type: Function & { readonly prototype: T }): Rule<T> =>
  rule((v) => v instanceof type, `a ${type.name}`);

/** An object whose shape is the caller's concern (loggers, clocks: injected parts). */
export const object = <T>(): Rule<T> =>
  rule((v) => typeof v === 'object' && v !== null, 'an object');

/** No check here: the value is handed to a library that checks it with its own rules. */
export const passedOn =
  <T>(): Rule<T> =>
  (value) =>
    value as T;

/** A nested options object, checked by its own rules. */
export const nested =
  <R extends Record<string, Rule<unknown>>>(rules: R): Rule<Checked<R>> =>
  (value, name) =>
    check(value ?? {}, rules, `${name}.`);

function check<R extends Record<string, Rule<unknown>>>(
  input: unknown,
  rules: R,
  prefix: string,
): Checked<R> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    refuse(
      prefix
        ? `${prefix.slice(0, -1)} must be an object, got ${show(input)}`
        : `not an object: ${show(input)}`,
    );
  const given = input as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !Object.hasOwn(rules, k));
  if (unknown.length)
    refuse(
      `unknown option(s) ${unknown.map((k) => prefix + k).join(', ')} (known: ${Object.keys(rules).join(', ')})`,
    );
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(rules)) out[key] = rule(given[key], prefix + key);
  return out as Checked<R>;
}

/**
 * Checks `input` against `rules` and returns the options with defaults filled in. `where` opens
 * every message (e.g. "TunnelServer options"); `fail` turns a refusal into the caller's error class
 * (default: SharedError INVALID_OPTIONS).
 */
export function checkOptions<R extends Record<string, Rule<unknown>>>(
  input: unknown,
  rules: R,
  where: string,
  fail?: (message: string) => Error,
): Checked<R> {
  try {
    return check(input, rules, '');
  } catch (e) {
    if (!(e instanceof SharedError) || e.code !== 'INVALID_OPTIONS') throw e;
    const message = `${where}: ${e.message}`;
    throw fail ? fail(message) : new SharedError('INVALID_OPTIONS', message);
  }
}
