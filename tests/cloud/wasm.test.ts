import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasSqlite,
  ownedCloud,
  raw,
  signIn,
  wallet,
  type Session,
  type TestCloud,
} from './helpers.ts';

const WAT = join(import.meta.dirname, 'fixtures', 'wasm');
const hasWat2wasm = (() => {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('tests/cloud/wasm skipped: wat2wasm (Debian wabt) is not installed');
    return false;
  }
})();

interface RunEvent {
  type: string;
  data?: string;
  status?: string;
  code?: number | null;
  message?: string;
  position?: number;
  changes?: any;
}

/** Builds a module from tests/cloud/fixtures/wasm/<name>.wat (MEMORY replaced when given). */
function build(name: string, memory?: string): Buffer {
  return compile(
    readFileSync(join(WAT, `${name}.wat`), 'utf8').replace('") MEMORY)', `") ${memory ?? ''})`),
  );
}

function compile(src: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-wat-'));
  try {
    execFileSync('wat2wasm', ['-', '-o', join(dir, 'm.wasm')], { input: src });
    return readFileSync(join(dir, 'm.wasm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(
  s: Session,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ status: number; events: RunEvent[]; json?: any }> {
  const res = await s.fetch('/api/apps/run', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.headers.get('content-type')?.startsWith('application/x-ndjson'))
    return { status: res.status, events: [], json: await res.json() };
  const text = await res.text();
  return {
    status: res.status,
    events: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}
const out = (events: RunEvent[], stream = 'stdout') =>
  events
    .filter((e) => e.type === stream)
    .map((e) => e.data)
    .join('');
const exit = (events: RunEvent[]) => events.find((e) => e.type === 'exit')!;

describe.skipIf(!hasSqlite || !hasWat2wasm)('cloud WASM runs', () => {
  let c: TestCloud;
  let owner: Session;
  let other: Session;
  let otherBlob: string;
  const put = async (s: Session, path: string, body: Buffer | string) => {
    const r = await s.fetch(`/dav${path}`, {
      method: 'PUT',
      body: new Uint8Array(Buffer.from(body)),
    });
    expect([201, 204]).toContain(r.status);
  };

  beforeAll(async () => {
    ({ c, owner } = await ownedCloud());
    await owner.api('POST', '/api/members', { address: wallet(2).address });
    other = await signIn(c, wallet(2));
    for (const d of ['/apps', '/work', '/work/sub'])
      await owner.api('POST', '/api/files/mkdir', { path: d });
    for (const name of ['hello', 'fib', 'loop', 'escape'])
      await put(owner, `/apps/${name}.wasm`, build(name));
    await put(owner, '/apps/hog.wasm', build('hog', '1 1024'));
    await put(owner, '/apps/hog-unbounded.wasm', build('hog', '1'));
    await put(owner, '/apps/hog-4g.wasm', build('hog', '1 65536'));
    await put(owner, '/work/input.txt', 'secret input\n');
    await put(other, '/private.txt', 'the other wallet\n');
    const node = c.cloud.store.resolve(other.address, ['private.txt'])!;
    otherBlob = c.cloud.store.blobs.path(node.blob!);
  });
  afterAll(() => c?.stop());

  it('hello: arguments, stdin and stdout, streamed as NDJSON, exit code', async () => {
    const r = await run(owner, {
      module: '/apps/hello.wasm',
      args: ['wide', 'wörld'],
      stdin: 'from stdin ✓\n',
    });
    expect(r.status).toBe(200);
    expect(r.events[0].type).toBe('start');
    expect(out(r.events)).toBe('hello wide wörld\nfrom stdin ✓\n');
    expect(exit(r.events)).toMatchObject({ status: 'exited', code: 0 });
  });

  it('fib: computes, and reports usage on stderr with exit code 2', async () => {
    const r = await run(owner, { module: '/apps/fib.wasm', args: ['90'] });
    expect(out(r.events)).toBe('2880067194370816120\n');
    const bad = await run(owner, { module: '/apps/fib.wasm' });
    expect(out(bad.events, 'stderr')).toBe('usage: fib N\n');
    expect(exit(bad.events)).toMatchObject({ status: 'exited', code: 2 });
  });

  it('stops an infinite loop at its wall-time limit while the node keeps serving', async () => {
    const looping = run(owner, { module: '/apps/loop.wasm', timeoutMs: 1500 });
    let settled = false;
    void looping.then(() => (settled = true));
    // Wait until the loop runs, then use the node: every answer comes back while the loop spins.
    for (let i = 0; i < 100 && c.cloud.apps.slots.stats().running === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 5; i++) expect((await owner.api('GET', '/api/me')).status).toBe(200);
    const hello = await run(other, { module: '/apps/hello.wasm', args: [] }).catch(() => undefined);
    expect(hello?.status).toBe(404); // the other wallet has no such module: its own space
    await put(other, '/hello.wasm', build('hello'));
    expect(out((await run(other, { module: '/hello.wasm', args: ['meanwhile'] })).events)).toBe(
      'hello meanwhile\n',
    );
    expect(settled).toBe(false);
    const r = await looping;
    expect(out(r.events)).toBe('spinning\n');
    expect(exit(r.events)).toMatchObject({ status: 'timeout', code: null });
    const short = await run(owner, { module: '/apps/loop.wasm', timeoutMs: 100 });
    expect(exit(short.events).status).toBe('timeout');
    expect((await run(owner, { module: '/apps/loop.wasm', timeoutMs: 99 })).status).toBe(400);
  });

  it('refuses modules whose memory has no maximum or one above the limit, and enforces the maximum', async () => {
    const unbounded = await run(owner, { module: '/apps/hog-unbounded.wasm' });
    expect(unbounded.status).toBe(422);
    expect(unbounded.json.error.code).toBe('MEMORY_LIMIT');
    const big = await run(owner, { module: '/apps/hog-4g.wasm' });
    expect(big.status).toBe(422);
    expect(big.json.error.message).toContain('4294967296');
    expect(
      (await run(owner, { module: '/apps/hog.wasm', memoryBytes: 32 * 1024 * 1024 })).status,
    ).toBe(422);
    // Declared 1024 pages (64 MiB): every grow past them fails inside the module.
    const r = await run(owner, { module: '/apps/hog.wasm', memoryBytes: 64 * 1024 * 1024 });
    expect(out(r.events)).toBe('1024\n');
    expect(exit(r.events)).toMatchObject({ status: 'exited', code: 0 });
  });

  it('refuses what is not a WASI command', async () => {
    await put(owner, '/apps/not.wasm', 'not wasm at all');
    expect((await run(owner, { module: '/apps/not.wasm' })).json.error.code).toBe('INVALID_MODULE');
    await put(
      owner,
      '/apps/env.wasm',
      compile('(module (import "env" "socket" (func)) (memory 1 1) (func (export "_start")))'),
    );
    await put(owner, '/apps/lib.wasm', compile('(module (memory 1 1) (func (export "main")))'));
    expect((await run(owner, { module: '/apps/lib.wasm' })).json.error.message).toContain('_start');
    const r = await run(owner, { module: '/apps/env.wasm' });
    expect(r.status).toBe(422);
    expect(r.json.error.message).toContain('env.socket');
    expect((await run(owner, { module: '/work' })).status).toBe(404);
    expect((await run(owner, { module: '/apps/hello.wasm', bogus: 1 })).status).toBe(400);
  });

  it('sees only its folder, read-only: no host file, no parent, no other wallet, no write', async () => {
    const tries = [
      'input.txt',
      '/etc/passwd',
      '../module.wasm',
      'sub/../../module.wasm',
      '../../../../../../etc/passwd',
      '/proc/self/environ',
      otherBlob,
      `..${otherBlob}`,
      '+out.txt',
      '+sub/new.txt',
      '@/etc/passwd',
      '@../module.wasm',
    ];
    const r = await run(owner, { module: '/apps/escape.wasm', dir: '/work', args: tries });
    expect(exit(r.events)).toMatchObject({ status: 'exited', code: 0 });
    const lines = out(r.events)
      .split('\n')
      .filter((l) => l.includes(' '));
    const errno = new Map(
      lines
        .filter((l) => !l.startsWith('secret'))
        .map((l) => {
          const [path, code] = l.split(' ');
          return [path, Number(code)];
        }),
    );
    expect(errno.get('input.txt')).toBe(0);
    expect(out(r.events)).toContain('input.txt 0 secret input');
    for (const t of tries.slice(1)) expect(errno.get(t), t).not.toBe(0);
    expect(out(r.events)).not.toContain('root:');
    expect(out(r.events)).not.toContain('the other wallet');
    expect(
      (await owner.api('GET', '/api/files?path=/work')).json.entries.map((e: any) => e.name),
    ).toEqual(['input.txt', 'sub']);
  });

  it('a write-enabled run brings new files back into the wallet, never symlinks', async () => {
    const r = await run(owner, {
      module: '/apps/escape.wasm',
      dir: '/work',
      write: true,
      args: ['+out.txt', '+sub/new.txt', '@../module.wasm', '/etc/passwd'],
    });
    const e = exit(r.events);
    expect(e.status).toBe('exited');
    expect(out(r.events)).toContain('+out.txt 0');
    expect(out(r.events)).toContain('/etc/passwd 76');
    expect(e.changes.written.sort()).toEqual(['/work/out.txt', '/work/sub/new.txt']);
    expect(e.changes.skipped).toEqual([{ path: '/lnk', reason: 'not a regular file or folder' }]);
    expect(await (await owner.fetch('/api/files/content?path=/work/out.txt')).text()).toBe(
      'written\n',
    );
    const again = await run(owner, {
      module: '/apps/escape.wasm',
      dir: '/work',
      write: true,
      args: ['+out.txt'],
    });
    expect(exit(again.events).changes.written).toEqual(['/work/out.txt']);
    expect((await owner.api('GET', '/api/versions?path=/work/out.txt')).json.versions).toHaveLength(
      1,
    );
    expect((await run(owner, { module: '/apps/hello.wasm', write: true })).status).toBe(400);
  });

  it('stops the module when the client goes away', async () => {
    const ac = new AbortController();
    const res = await owner.fetch('/api/apps/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ module: '/apps/loop.wasm' }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('spinning'))
      seen += new TextDecoder().decode((await reader.read()).value);
    expect(c.cloud.apps.slots.stats().running).toBe(1);
    ac.abort();
    for (let i = 0; i < 100 && c.cloud.apps.slots.stats().running > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(c.cloud.apps.slots.stats().running).toBe(0);
  });
});

describe.skipIf(!hasSqlite || !hasWat2wasm)('cloud WASM run limits per wallet and node', () => {
  it('queues, then answers 429', async () => {
    const { c, owner } = await ownedCloud({
      limits: {
        wasmRunsPerWallet: 1,
        wasmRunsPerNode: 1,
        wasmQueuedPerWallet: 1,
        wasmQueuedPerNode: 1,
      },
    });
    try {
      await owner.fetch('/dav/loop.wasm', { method: 'PUT', body: new Uint8Array(build('loop')) });
      await owner.fetch('/dav/fib.wasm', { method: 'PUT', body: new Uint8Array(build('fib')) });
      const first = run(owner, { module: '/loop.wasm', timeoutMs: 1000 });
      for (let i = 0; i < 100 && c.cloud.apps.slots.stats().running === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      const second = run(owner, { module: '/fib.wasm', args: ['10'] });
      for (let i = 0; i < 100 && c.cloud.apps.slots.stats().queued === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      const third = await run(owner, { module: '/fib.wasm', args: ['10'] });
      expect(third.status).toBe(429);
      expect(third.json.error.code).toBe('RATE_LIMITED');
      expect(exit((await first).events).status).toBe('timeout');
      const s = await second;
      expect(s.events[0]).toEqual({ type: 'queued', position: 1 });
      expect(out(s.events)).toBe('55\n');
    } finally {
      await c.stop();
    }
  });
});
