import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstream } from '../helpers/upstream.ts';
import { createProbeApp, PROBE_PATH } from '../../origin/probe.ts';

let site: Awaited<ReturnType<typeof startUpstream>>;
let closedPort: number;
const silent = createServer(() => {
  /* accepts, never answers */
});

beforeAll(async () => {
  site = await startUpstream('alice');
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await site.close();
  silent.close();
});

const app = createProbeApp({
  isAllowedTarget: (url) => url.hostname === '127.0.0.1',
  timeoutMs: 500,
});
const probe = (endpoint: unknown) =>
  app.request(PROBE_PATH, {
    method: 'POST',
    body: JSON.stringify({ endpoint }),
    headers: { 'content-type': 'application/json' },
  });

describe('reachability probe', () => {
  it('reports a live endpoint as reachable, with its status', async () => {
    const res = await probe(site.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reachable: true, status: 200 });
  });

  it('reports refused and silent endpoints as unreachable', async () => {
    expect(await (await probe(`http://127.0.0.1:${closedPort}/`)).json()).toMatchObject({
      reachable: false,
      error: 'ECONNREFUSED',
    });
    const port = (silent.address() as AddressInfo).port;
    expect(await (await probe(`http://127.0.0.1:${port}/`)).json()).toEqual({
      reachable: false,
      error: 'timeout',
    });
  });

  it('refuses non-http and guarded targets with JSON errors', async () => {
    const bad = await probe('ftp://127.0.0.1/');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_ENDPOINT');
    expect((await probe(42)).status).toBe(400);
    const guarded = await probe('http://169.254.169.254/latest/meta-data');
    expect(guarded.status).toBe(422);
    expect((await guarded.json()).error.code).toBe('ENDPOINT_NOT_PUBLIC');
  });
});
