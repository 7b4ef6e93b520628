import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, type Session, type TestCloud } from './helpers.ts';

const run = promisify(execFile);
const hasLitmus = existsSync('/usr/bin/litmus');
const hasRclone = existsSync('/usr/bin/rclone');
if (!hasLitmus)
  console.warn(
    'tests/cloud/webdav: litmus is not installed (apt-get install litmus; .ci/run does it): the litmus suites are skipped',
  );
if (!hasRclone)
  console.warn(
    'tests/cloud/webdav: rclone is not installed (apt-get install rclone; .ci/run does it): the rclone checks are skipped',
  );

describe.skipIf(!hasSqlite)('cloud WebDAV with real clients', () => {
  let c: TestCloud;
  let owner: Session;
  let appPassword: string;
  let work: string;

  beforeAll(async () => {
    ({ c, owner, appPassword } = await ownedCloud({ limits: { quotaBytes: 64 * 1024 * 1024 } }));
    work = mkdtempSync(join(tmpdir(), 'pc2-dav-client-'));
  });
  afterAll(async () => {
    await c.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it.skipIf(!hasLitmus)(
    'passes 100% of litmus basic, copymove, props, locks and http',
    async () => {
      const cwd = join(work, 'litmus');
      mkdirSync(cwd);
      const { stdout } = await run('litmus', [`${c.url}/dav/`, owner.address, appPassword], {
        cwd,
        env: { ...process.env, TESTS: 'basic copymove props locks http' },
        timeout: 120_000,
      }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
      const summaries = [
        ...stdout.matchAll(/summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g),
      ].map((m) => ({
        suite: m[1],
        run: Number(m[2]),
        passed: Number(m[3]),
        failed: Number(m[4]),
      }));
      expect(summaries.map((s) => s.suite)).toEqual([
        'basic',
        'copymove',
        'props',
        'locks',
        'http',
      ]);
      for (const s of summaries)
        expect(
          s,
          stdout
            .split('\n')
            .filter((l) => /FAIL|WARNING/.test(l))
            .join('\n'),
        ).toMatchObject({ failed: 0, passed: s.run });
      expect(summaries.reduce((n, s) => n + s.passed, 0)).toBeGreaterThanOrEqual(100);
      expect(stdout).not.toMatch(/WARNING/);
    },
  );

  describe.skipIf(!hasRclone)('rclone', () => {
    const rclone = async (...args: string[]) => {
      const obscured = (await run('rclone', ['obscure', appPassword])).stdout.trim();
      return run(
        'rclone',
        [
          ...args,
          `--webdav-url=${c.url}/dav/`,
          `--webdav-user=${owner.address}`,
          `--webdav-pass=${obscured}`,
          '--config=/dev/null',
        ],
        { timeout: 60_000 },
      );
    };

    it('shows the RFC 4331 quota with rclone about', async () => {
      const { stdout } = await rclone('about', ':webdav:', '--json');
      const about = JSON.parse(stdout);
      expect(about.total).toBe(64 * 1024 * 1024);
      expect(about.used + about.free).toBe(about.total);
    });

    it('copies a tree up and back byte-exactly (rclone copy + check --download)', async () => {
      const src = join(work, 'src');
      mkdirSync(join(src, 'deep', 'er'), { recursive: true });
      writeFileSync(join(src, 'a.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
      writeFileSync(join(src, 'deep', 'café ü 日本.txt'), 'unicode name');
      writeFileSync(join(src, 'deep', 'er', 'empty'), '');
      writeFileSync(join(src, 'deep', 'er', '100% #1 & ?.txt'), 'odd characters');
      await rclone('copy', src, ':webdav:backup');
      await rclone('check', src, ':webdav:backup', '--download');
      const back = join(work, 'back');
      await rclone('copy', ':webdav:backup', back);
      await rclone('check', src, back);
      expect(readFileSync(join(back, 'deep', 'café ü 日本.txt'), 'utf8')).toBe('unicode name');
      // An overwrite keeps the old content as a version.
      writeFileSync(join(src, 'a.bin'), Buffer.alloc(1024, 8));
      await rclone('copy', src, ':webdav:backup');
      const versions = await owner.api('GET', '/api/versions?path=/backup/a.bin');
      expect(versions.json.versions).toHaveLength(1);
      expect(versions.json.versions[0].size).toBe(3 * 1024 * 1024);
    });

    it('stops working the moment its app password is revoked', async () => {
      const list = (await owner.api('GET', '/api/app-passwords')).json.appPasswords;
      expect((await owner.api('DELETE', `/api/app-passwords/${list[0].id}`)).status).toBe(200);
      await expect(
        rclone('lsf', ':webdav:', '--low-level-retries=1', '--retries=1'),
      ).rejects.toThrow();
    });
  });
});
