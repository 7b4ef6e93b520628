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
    expect(flags.options).toEqual({ name: 'fromfile', port: 3, dev: true, supernode: ['x', 'y'] });
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
