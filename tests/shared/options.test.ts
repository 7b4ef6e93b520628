/** shared/options.ts: one declaration per options object; unknown names, wrong values and defaults. */
import { describe, expect, it } from 'vitest';
import { SharedError } from '../../shared/errors.ts';
import {
  boolean,
  checkOptions,
  integer,
  list,
  nested,
  optional,
  type Rules,
  string,
  withDefault,
} from '../../shared/options.ts';

interface Example {
  port?: number;
  name: string;
  tags?: string[];
  flags?: { fast?: boolean };
}

const RULES = {
  port: withDefault(integer(0, 65535), 8090),
  name: string,
  tags: optional(list(string)),
  flags: nested({ fast: withDefault(boolean, false) }),
} satisfies Rules<Example>;

class PackageError extends Error {}

describe('checkOptions', () => {
  it('fills in defaults and keeps given values', () => {
    expect(checkOptions({ name: 'a' }, RULES, 'example')).toEqual({
      port: 8090,
      name: 'a',
      tags: undefined,
      flags: { fast: false },
    });
    expect(
      checkOptions({ name: 'a', port: 0, tags: ['x'], flags: { fast: true } }, RULES, 'example'),
    ).toEqual({ port: 0, name: 'a', tags: ['x'], flags: { fast: true } });
  });

  it('refuses unknown names, at any depth, naming them and the known ones', () => {
    expect(() => checkOptions({ name: 'a', prot: 1 }, RULES, 'example')).toThrow(
      /^example: unknown option\(s\) prot \(known: port, name, tags, flags\)$/,
    );
    expect(() => checkOptions({ name: 'a', flags: { fats: true } }, RULES, 'example')).toThrow(
      /unknown option\(s\) flags\.fats/,
    );
  });

  it('refuses missing and malformed values, naming the option', () => {
    expect(() => checkOptions({}, RULES, 'example')).toThrow(/^example: name is required$/);
    expect(() => checkOptions({ name: 'a', port: 70000 }, RULES, 'example')).toThrow(
      /port must be an integer from 0 to 65535, got 70000/,
    );
    expect(() => checkOptions({ name: 'a', tags: ['x', 1] }, RULES, 'example')).toThrow(
      /tags\[1\] must be a string, got 1/,
    );
    expect(() => checkOptions(null, RULES, 'example')).toThrow(/not an object/);
  });

  it('throws SharedError INVALID_OPTIONS, or the error the caller asks for', () => {
    expect(() => checkOptions({}, RULES, 'example')).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => checkOptions({}, RULES, 'example')).toThrow(SharedError);
    expect(() => checkOptions({}, RULES, 'example', (m) => new PackageError(m))).toThrow(
      PackageError,
    );
  });
});
