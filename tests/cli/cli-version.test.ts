import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { PC2, REPO, runCli } from '../helpers/cli.ts';

const run = promisify(execFile);
const pinned = realpathSync(new URL('../../node_modules/.bin/node', import.meta.url));
const expected = `pc2 ${pkg.version} on Node.js ${process.version} (${process.platform}-${process.arch})`;
// The machine's own Node (Debian's), when it has one that is not the pinned one.
const SYSTEM_NODE = '/usr/bin/node';
const otherNode = existsSync(SYSTEM_NODE) && realpathSync(SYSTEM_NODE) !== pinned;

describe('pc2 --version', () => {
  it('runs these tests on the pinned Node.js binary too', () => {
    expect(realpathSync(process.execPath)).toBe(pinned);
  });

  it('runs on the pinned Node even when PATH finds the system node first', async () => {
    const r = await runCli(['--version'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(expected);
  });

  it('is what `npx pc2` runs (package.json "bin")', async () => {
    const { stdout } = await run('npx', ['--no-install', 'pc2', '--version'], { cwd: REPO });
    expect(stdout.trim()).toBe(expected);
  });

  it.skipIf(!otherNode)('refuses, with exit 1, to run on another Node', async () => {
    const r = await run(SYSTEM_NODE, [PC2, '--version']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pc2: runs on the project's Node");
  });
});
