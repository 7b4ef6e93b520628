/**
 * The personal clouds of `pc2 devnet` (what `npm start` runs, as a real process) used as their owner
 * would: rclone copy and check over WebDAV with an app password to and from alice (relayed) and bob
 * (direct), byte-exact; python3-tuspy resuming an upload killed half-way, through the relay; and
 * Debian's Chromium signing in with the demo wallet, running a WASM module and streaming a chat
 * reply through the relay. The rclone size is PC2_E2E_CLOUD_MIB (64 in `npm test`; 1024 in
 * `npm run e2e:cloud`).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from '../cloud/fixtures/openai-upstream.ts';
import { siweMessage, walletOf } from '../cloud/helpers.ts';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { pc2, type Proc, reservePort, tempDir } from '../helpers/processes.ts';

const run = promisify(execFile);
const MIB = Number(process.env.PC2_E2E_CLOUD_MIB ?? 64);
const PYTHON = '/usr/bin/python3';
const hasRclone = existsSync('/usr/bin/rclone');
const hasTuspy = existsSync('/usr/lib/python3/dist-packages/tusclient');
const hasWabt = existsSync('/usr/bin/wat2wasm');
for (const [ok, what] of [
  [hasRclone, 'rclone'],
  [hasTuspy, 'python3-tuspy'],
  [hasChromium, 'chromium'],
  [hasWabt, 'wabt'],
] as const)
  if (!ok) console.warn(`tests/e2e/cloud-devnet: ${what} is not installed (.ci/run installs it)`);

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Random bytes to a file, a MiB at a time. */
function randomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= 1 << 20)
    writeSync(fd, randomBytes(Math.min(left, 1 << 20)));
  closeSync(fd);
}

describe('the personal clouds of pc2 devnet, used by rclone, tuspy and Chromium', () => {
  const up = new Upstream();
  let devnet: Proc;
  let port: number;
  let work: string;
  let address: string;
  let privateKey: `0x${string}`;
  const passwords: Record<string, string> = {};
  // Go's and Python's resolvers do not map *.localhost to loopback: the gateway doubles as their HTTP proxy.
  let proxyEnv: Record<string, string>;
  const origin = (name: string) => `http://${name}.localhost:${port}`;

  beforeAll(async () => {
    await up.start();
    work = tempDir('pc2-cloud-e2e-');
    port = await reservePort();
    devnet = pc2([
      'devnet',
      '--port',
      String(port),
      '--chat-url',
      up.url,
      '--chat-model',
      'upstream-model',
    ]);
    const out = (await devnet.waitFor(/Ctrl-C stops everything/, 60_000)).input!;
    address = out.match(/wallet (0x[0-9a-fA-F]{40})/)![1];
    privateKey = out.match(/key {4}(0x[0-9a-f]{64})/)![1] as `0x${string}`;
    for (const name of ['alice', 'bob'])
      passwords[name] = out.match(
        new RegExp(`${name}\\.localhost:\\d+/dav/ +app password (\\S+)`),
      )![1];
    writeFileSync(join(work, 'rclone.conf'), '');
    proxyEnv = {
      ...(process.env as Record<string, string>),
      HTTP_PROXY: `http://127.0.0.1:${port}`,
      http_proxy: `http://127.0.0.1:${port}`,
      NO_PROXY: '',
      no_proxy: '',
      RCLONE_CONFIG: join(work, 'rclone.conf'),
    };
  }, 90_000);

  afterAll(async () => {
    await devnet?.kill('SIGINT');
    up.server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const rclone = (name: string, ...args: string[]) =>
    run(
      'rclone',
      [
        ...args,
        '--webdav-url',
        `${origin(name)}/dav/`,
        '--webdav-vendor',
        'other',
        '--webdav-user',
        address,
        '--webdav-pass',
        execFileSync('rclone', ['obscure', passwords[name]]).toString().trim(),
        '--retries',
        '1',
        '--low-level-retries',
        '1',
      ],
      { env: proxyEnv, maxBuffer: 16 << 20 },
    );

  for (const [name, how] of [
    ['alice', 'relayed'],
    ['bob', 'direct'],
  ] as const)
    it.skipIf(!hasRclone)(
      `rclone copies ${MIB} MiB to and from ${name} (${how}) over WebDAV, byte-exact`,
      { timeout: 120_000 + MIB * 1500 },
      async () => {
        const src = join(work, `${name}-src`);
        const back = join(work, `${name}-back`);
        mkdirSync(join(src, 'small'), { recursive: true });
        randomFile(join(src, 'big.bin'), MIB << 20);
        for (const n of [1, 2, 3]) randomFile(join(src, 'small', `${n}.bin`), n * 1000 + 7);
        await rclone(name, 'copy', src, ':webdav:e2e');
        // --download compares the bytes, not sizes and times (WebDAV here has no hashes).
        await rclone(name, 'check', '--download', src, ':webdav:e2e');
        await rclone(name, 'copy', ':webdav:e2e', back);
        expect(await sha256(join(back, 'big.bin'))).toBe(await sha256(join(src, 'big.bin')));
        for (const n of [1, 2, 3])
          expect(readFileSync(join(back, 'small', `${n}.bin`))).toEqual(
            readFileSync(join(src, 'small', `${n}.bin`)),
          );
        const about = await rclone(name, 'about', ':webdav:', '--json');
        expect(JSON.parse(about.stdout).used).toBeGreaterThanOrEqual(MIB << 20);
        rmSync(src, { recursive: true });
        rmSync(back, { recursive: true });
      },
    );

  it.skipIf(!hasTuspy)(
    'python3-tuspy resumes an upload killed half-way, through the relay to alice',
    { timeout: 120_000 },
    async () => {
      const file = join(work, 'movie.bin');
      const size = 24 << 20;
      randomFile(file, size);
      const basic = `Basic ${Buffer.from(`${address}:${passwords.alice}`).toString('base64')}`;
      const script = join(import.meta.dirname, 'fixtures', 'tus_resume.py');
      const first = spawn(PYTHON, [script, origin('alice'), basic, file, 'start'], {
        env: proxyEnv,
      });
      let out = '';
      const killed = new Promise<void>((resolve, reject) => {
        first.stdout.on('data', (d) => {
          out += d;
          const offsets = [...out.matchAll(/^at \S+ (\d+)$/gm)].map((m) => Number(m[1]));
          if (offsets.length && offsets.at(-1)! >= size / 3 && first.exitCode === null) {
            first.kill('SIGKILL');
            resolve();
          }
        });
        first.stderr.on('data', (d) => (out += d));
        first.once('exit', (code, signal) =>
          signal === 'SIGKILL' ? resolve() : reject(new Error(`tuspy exited ${code}:\n${out}`)),
        );
      });
      await killed;
      const url = out.match(/^at (\S+) \d+$/m)![1];
      expect(url.startsWith(`${origin('alice')}/tus/`)).toBe(true);
      const second = await run(PYTHON, [script, origin('alice'), basic, file, url], {
        env: proxyEnv,
      });
      const resumedAt = Number(second.stdout.match(/resumed-at (\d+)/)![1]);
      expect(resumedAt).toBeGreaterThanOrEqual(size / 3);
      expect(resumedAt).toBeLessThan(size);
      expect(second.stdout).toContain(`done ${size}`);
      const got = join(work, 'movie.back');
      await run('curl', [
        '-sf',
        '-u',
        `${address}:${passwords.alice}`,
        '-o',
        got,
        `${origin('alice')}/dav/tus/movie.bin`,
      ]);
      expect(await sha256(got)).toBe(await sha256(file));
    },
  );

  describe.skipIf(!hasChromium || !hasWabt)('Chromium through the relay', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);
    afterAll(() => browser?.close());

    it('signs in with the wallet, runs a WASM module live and streams a chat reply', {
      timeout: 120_000,
    }, async () => {
      const page = await browser.newPage();
      await page.goto(`${origin('alice')}/api/node`);
      const nonce = await page.evaluate(async () => (await fetch('/api/auth/nonce')).json());
      expect(nonce.domain).toBe(`alice.localhost:${port}`);
      const w = walletOf(privateKey);
      const message = siweMessage(w, nonce);
      const signedIn = await page.evaluate(
        async ([message, signature]) =>
          (
            await fetch('/api/auth/signin', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ message, signature }),
            })
          ).status,
        [message, w.signMessage(message)],
      );
      expect(signedIn).toBe(200);

      const wasm = join(work, 'hello.wasm');
      execFileSync('wat2wasm', [
        join(import.meta.dirname, '../cloud/fixtures/wasm/hello.wat'),
        '-o',
        wasm,
      ]);
      await run('curl', [
        '-sf',
        '-T',
        wasm,
        '-u',
        `${address}:${passwords.alice}`,
        `${origin('alice')}/dav/hello.wasm`,
      ]);
      await page.goto(`${origin('alice')}/apps/run?module=/hello.wasm`);
      await page.fill('#args', 'through\nthe relay');
      await page.fill('#stdin', 'and back');
      await page.click('#run');
      await page.locator('#status', { hasText: 'exited with code 0' }).waitFor();
      expect(await page.locator('#output').textContent()).toBe('hello through the relay\nand back');

      await page.goto(`${origin('alice')}/chat`);
      await page.getByText('upstream-model (openai)').waitFor();
      up.words = ['Streamed', ' through', ' **the relay**'];
      up.hold = true;
      await page.fill('#input', 'Stream something');
      await page.press('#input', 'Enter');
      const reply = page.locator('.message.assistant').last();
      // The first piece shows while the model still holds the rest: nothing on the way buffers.
      await reply.getByText('Streamed').waitFor();
      expect(await reply.textContent()).not.toContain('through');
      up.hold = false;
      up.release();
      await reply.locator('strong', { hasText: 'the relay' }).waitFor();
    });
  });
});
