/**
 * The Node.js gateway's dispatch fast path with a large body: a client that stops reading stops the
 * upstream (backpressure end to end, nothing buffered in between), the body arrives byte-exact once
 * it reads again, and a client that goes away mid-body closes the upstream response.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { signRoute } from '../../../../shared/records/route.ts';
import { open } from '../../client.ts';
import { close, listen } from '../../origins.ts';
import { createWorld, type World } from '../../world.ts';

const CHUNK = Buffer.alloc(64 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 7 + 13) & 0xff;
const CHUNKS = 1024; // 64 MiB
const TOTAL = CHUNK.length * CHUNKS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An upstream that writes the big body only as fast as its socket takes it, and tells how far it got. */
class BigUpstream {
  readonly server: http.Server;
  /** Bytes the upstream's socket has accepted, per request key. */
  readonly written = new Map<string, number>();
  readonly closedEarly = new Set<string>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? '';
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(TOTAL),
      });
      let sent = 0;
      this.written.set(key, 0);
      res.once('close', () => {
        if (sent < CHUNKS) this.closedEarly.add(key);
      });
      const pump = () => {
        while (sent < CHUNKS && !res.destroyed) {
          sent++;
          this.written.set(key, sent * CHUNK.length);
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        if (sent === CHUNKS) res.end();
      };
      pump();
    });
  }
}

describe('Node gateway fast path, large bodies', () => {
  let world: World;
  let upstream: BigUpstream;
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    world = await createWorld();
    upstream = new BigUpstream();
    const port = await listen(upstream.server);
    const now = Date.now();
    const alice = world.a.records.get('alice')!;
    const route = await signRoute(
      {
        name: 'alice',
        mode: 'direct',
        endpoint: `http://127.0.0.1:${port}`,
        relays: [],
        seq: 2,
        iat: now - 1000,
        exp: now + 3_600_000,
      },
      world.nodes.get('alice')!,
    );
    world.a.records.set('alice', { ...alice, route });
    gateway = await startGateway({ config: world.config, hostname: '127.0.0.1', httpPort: 0 });
    base = `http://127.0.0.1:${gateway.ports.http}`;
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await close(upstream.server);
    await world?.close();
  }, 60_000);

  it('stops the upstream while the client does not read, then delivers the whole body byte-exact', async () => {
    const key = `paused-${Math.random()}`;
    const { req, res } = open(base, 'alice.localhost', `/big?key=${key}`);
    req.end();
    const response = await res;
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(TOTAL));
    response.pause();
    // Wait until the upstream cannot write any more: every buffer on the way is full.
    let last = -1;
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      const now = upstream.written.get(key) ?? 0;
      if (now === last) break;
      last = now;
    }
    expect(upstream.written.get(key)).toBe(last);
    // Socket buffers on loopback hold a few MiB each; the gateway itself holds no more than a chunk or two.
    expect(last).toBeLessThan(TOTAL / 2);
    const hash = createHash('sha256');
    let received = 0;
    response.on('data', (d: Buffer) => {
      received += d.length;
      hash.update(d);
    });
    response.resume();
    await new Promise<void>((resolve, reject) => {
      response.once('end', resolve);
      response.once('error', reject);
    });
    expect(received).toBe(TOTAL);
    const expected = createHash('sha256');
    for (let i = 0; i < CHUNKS; i++) expected.update(CHUNK);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  }, 60_000);

  it('closes the upstream response when the client goes away mid-body', async () => {
    const key = `gone-${Math.random()}`;
    const { req, res } = open(base, 'alice.localhost', `/big?key=${key}`);
    req.end();
    const response = await res;
    await new Promise((resolve) => response.once('data', resolve));
    response.destroy();
    req.destroy();
    for (let i = 0; i < 200 && !upstream.closedEarly.has(key); i++) await sleep(50);
    expect(upstream.closedEarly.has(key)).toBe(true);
    expect(upstream.written.get(key)).toBeLessThan(TOTAL);
  }, 60_000);
});
