import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.ts';
import { parseOptions } from '../../cli/options.ts';

const SPEC = {
  name: { kind: 'string', description: 'name', required: true },
  port: { kind: 'number', description: 'port', default: 8080 },
  dev: { kind: 'boolean', description: 'dev', default: false },
  supernode: { kind: 'list', description: 'super nodes', default: [] as string[] },
} as const;

const dir = mkdtempSync(join(tmpdir(), 'pc2-opt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI options: flags > environment > config file > defaults', () => {
  const config = join(dir, 'c.json');
  writeFileSync(config, JSON.stringify({ name: 'fromfile', port: 1, supernode: ['http://a'] }));

  it('layers the sources in order', () => {
    const fileOnly = parseOptions(['--config', config], SPEC, 'usage', {})!;
    expect(fileOnly.options).toEqual({
      name: 'fromfile',
      port: 1,
      dev: false,
      supernode: ['http://a'],
      logLevel: 'info',
      logFormat: 'text',
    });
    const env = parseOptions(['--config', config], SPEC, 'usage', {
      PC2_PORT: '2',
      PC2_SUPERNODE: 'http://b,http://c',
    })!;
    expect(env.options.port).toBe(2);
    expect(env.options.supernode).toEqual(['http://b', 'http://c']);
    const flags = parseOptions(
      ['--config', config, '--port', '3', '--supernode', 'x', '--supernode', 'y', '--dev'],
      SPEC,
      'usage',
      { PC2_PORT: '2' },
    )!;
    expect(flags.options).toMatchObject({
      name: 'fromfile',
      port: 3,
      dev: true,
      supernode: ['x', 'y'],
    });
  });

  it('reports bad values, missing required options and unknown keys clearly', () => {
    expect(() => parseOptions([], SPEC, 'usage', {})).toThrow(/--name is required/);
    expect(() => parseOptions(['--name', 'a', '--port', 'eighty'], SPEC, 'usage', {})).toThrow(
      /expected a number/,
    );
    expect(() => parseOptions(['--name', 'a'], SPEC, 'usage', { PC2_DEV: 'maybe' })).toThrow(
      CliError,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'a', colour: 'red' }));
    expect(() => parseOptions(['--config', bad], SPEC, 'usage', {})).toThrow(
      /unknown option "colour"/,
    );
    writeFileSync(bad, '{not json');
    expect(() => parseOptions(['--config', bad], SPEC, 'usage', {})).toThrow(
      /cannot read config file/,
    );
    expect(() => parseOptions(['--nope'], SPEC, 'usage', {})).toThrow(CliError);
  });
});

describe('CLI options: every value checked, a bad one is a usage error (exit 2)', () => {
  const STRICT = {
    lease: {
      kind: 'number',
      description: 'lease',
      integer: true,
      min: 10,
      max: 86_400,
      default: 600,
    },
    url: { kind: 'list', description: 'urls', url: ['http:', 'https:'] },
    mode: { kind: 'string', description: 'mode', choices: ['a', 'b'] },
    even: {
      kind: 'string',
      description: 'even',
      check: (v: string) => (Number(v) % 2 === 0 ? undefined : 'an even number'),
    },
  } as const;
  const refused = (args: string[], env: Record<string, string> = {}) => {
    try {
      parseOptions(args, STRICT, 'usage', env);
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
      return (e as CliError).message;
    }
    throw new Error(`accepted ${args.join(' ')}`);
  };

  it('ranges, whole numbers, URLs, choices, custom checks, log flags', () => {
    expect(refused(['--lease', '0'])).toMatch(
      /--lease: expected a number from 10 to 86400, got "0"/,
    );
    expect(refused(['--lease=-5'])).toMatch(/from 10 to 86400/);
    expect(refused(['--lease', '12.5'])).toMatch(/a whole number/);
    expect(refused(['--lease', ''])).toMatch(/a number/);
    expect(refused([], { PC2_LEASE: '1e9' })).toMatch(/PC2_LEASE \(lease\): expected a number/);
    expect(refused(['--url', 'sn1.example'])).toMatch(/a URL/);
    expect(refused(['--url', 'ftp://sn1.example'])).toMatch(/http:\/\/ or https:\/\//);
    expect(refused(['--url', 'http://user:pw@sn1.example'])).toMatch(/without user/);
    expect(refused(['--mode', 'c'])).toMatch(/one of a, b/);
    expect(refused(['--even', '3'])).toMatch(/an even number/);
    expect(refused(['--log-level', 'loud'])).toMatch(/one of debug, info, warn, error/);
    expect(refused(['--log-format', 'xml'])).toMatch(/one of text, json/);
    const ok = parseOptions(
      ['--lease', '10', '--url', 'https://sn1.example', '--log-format', 'json'],
      STRICT,
      'usage',
      {},
    )!;
    expect(ok.options).toMatchObject({
      lease: 10,
      url: ['https://sn1.example'],
      logFormat: 'json',
    });
  });
});

describe('CLI log lines: --log-level and --log-format', () => {
  it('drops the less severe lines and writes JSON objects when asked', async () => {
    const { createLogger } = await import('../../cli/logger.ts');
    const lines: string[] = [];
    const json = createLogger('node', {
      level: 'warn',
      format: 'json',
      write: (l) => lines.push(l),
    });
    json.debug('d');
    json.info('i');
    json.warn('app not answering', { at: 'x' });
    json.error('e');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'warn',
      component: 'node',
      msg: 'app not answering',
      at: 'x',
    });
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const text: string[] = [];
    createLogger('node', { level: 'debug', write: (l) => text.push(l) }).debug('hello', { a: 1 });
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z debug node: hello \{"a":1\}\n$/);
  });
});
