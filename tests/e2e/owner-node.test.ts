/**
 * `pc2 node` as a node owner runs it, against real `pc2 supernode` and `pc2 gateway` processes:
 * direct mode stays up and renews its lease, both modes come back after the super nodes restart,
 * the app's health reaches the owner and the visitor (502 "app not answering"), the visitor's Host
 * reaches the app, and the inspector's API lists the requests.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessNetwork, startProcessNetwork } from '../helpers/process-network.ts';
import { keyFile, pc2, type Proc, reservePort } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

let net: ProcessNetwork;
const procs: Proc[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  net = await startProcessNetwork();
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  for (const c of closers) await c();
  await net?.close();
}, 60_000);

async function visit(name: string, path: string) {
  const res = await request(`http://127.0.0.1:${net.gatewayPort}${path}`, {
    headers: { host: `${name}.localhost:${net.gatewayPort}` },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

const publishedTimes = (output: string) =>
  new Set([...output.matchAll(/"publishedAt":"([^"]+)"/g)].map((m) => m[1]));

async function startNode(name: string, args: string[]): Promise<Proc> {
  const key = await keyFile(net.dir, name);
  const node = pc2([
    'node',
    '--name',
    name,
    '--supernode',
    net.primary.url,
    '--supernode',
    net.secondary.url,
    '--key',
    key.path,
    ...args,
  ]);
  procs.push(node);
  return node;
}

describe('pc2 node, direct mode', () => {
  it('stays up, renews before expiry, and comes back after both super nodes restart', {
    timeout: 150_000,
  }, async () => {
    const app = await startUpstream('dave');
    closers.push(app.close);
    const port = await reservePort();
    const node = await startNode('dave', [
      '--mode',
      'direct',
      '--public-url',
      `http://127.0.0.1:${port}`,
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      app.url,
      '--lease-seconds',
      '10',
      '--inspector',
      'off',
    ]);
    await node.waitFor(/"state":"online","mode":"direct"/, 60_000);
    expect(node.output()).toContain('tunnel=not used');
    const first = await visit('dave', '/headers');
    expect(first.status).toBe(200);
    // The visitor's Host reaches the app; X-Forwarded-* as before.
    const seen = JSON.parse(first.body);
    expect(seen.host).toBe(`dave.localhost:${net.gatewayPort}`);
    expect(seen['x-forwarded-host']).toBe(`dave.localhost:${net.gatewayPort}`);
    expect(seen['x-forwarded-proto']).toBe('http');

    // Longer than one lease: still running, renewed (a new "published" each half lease), still served.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(node.child.exitCode).toBeNull();
    expect(publishedTimes(node.output()).size).toBeGreaterThanOrEqual(3);
    expect((await visit('dave', '/')).status).toBe(200);

    // Both super nodes gone for longer than the lease: offline; back: online again by itself.
    await Promise.all([net.primary.proc.kill('SIGKILL'), net.secondary.proc.kill('SIGKILL')]);
    const before = node.output().length;
    await node.waitFor(/"state":"offline"[^\n]*routeError/, 30_000);
    expect(node.output().slice(before)).toMatch(/no super node accepted the route/);
    await Promise.all([net.startSuperNode(net.primary), net.startSuperNode(net.secondary)]);
    const back = node.output().length;
    await expect
      .poll(() => /"state":"online"/.test(node.output().slice(back)), {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(true);
    await expect
      .poll(async () => (await visit('dave', '/')).status, { timeout: 30_000, interval: 500 })
      .toBe(200);
    // The relayed node of the same network has its tunnels back too.
    await net.node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
    await expect
      .poll(async () => (await visit('alice', '/')).status, { timeout: 30_000, interval: 500 })
      .toBe(200);

    // Stopped: the route is withdrawn at once, so the visitor sees "offline", not the app's error.
    await node.kill('SIGINT');
    expect(node.child.exitCode).toBe(130);
    expect(node.output()).toMatch(/"state":"stopped"/);
    await expect
      .poll(async () => (await visit('dave', '/')).status, { timeout: 15_000, interval: 500 })
      .toBe(503);
  });
});

describe('pc2 node, relayed, with its app down and up', () => {
  it('tells the owner and the visitor (502, not 503), then serves once the app answers', {
    timeout: 120_000,
  }, async () => {
    const appPort = await reservePort();
    const inspector = await reservePort();
    const node = await startNode('erin', [
      '--mode',
      'relay',
      '--upstream',
      `http://127.0.0.1:${appPort}`,
      '--app-check-seconds',
      '0.5',
      '--inspector',
      `127.0.0.1:${inspector}`,
    ]);
    await node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
    expect(node.output()).toContain(
      `app not answering at http://127.0.0.1:${appPort} (connection refused)`,
    );
    const down = await visit('erin', '/page');
    expect(down.status).toBe(502);
    expect(down.headers['x-pc2-error']).toBe('APP_NOT_ANSWERING');
    expect(down.body).toContain('online but its app is not answering');
    const offline = await visit('nobody-here', '/');
    expect(offline.status).toBe(404);

    const app = await startUpstream('erin', '127.0.0.1', appPort);
    closers.push(app.close);
    await node.waitFor(/app answering again/, 10_000);
    const up = await visit('erin', '/headers');
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body).host).toBe(`erin.localhost:${net.gatewayPort}`);

    // The inspector's list: method, path, status, bytes, which super node.
    const state = (await (await fetch(`http://127.0.0.1:${inspector}/api/state`)).json()) as {
      status: { state: string; app: { state: string } };
      requests: { method: string; path: string; status: number; via: string; bytesOut: number }[];
    };
    expect(state.status).toMatchObject({ state: 'online', app: { state: 'up' } });
    const paths = state.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(paths).toEqual(expect.arrayContaining(['GET /page 502', 'GET /headers 200']));
    expect(state.requests.at(-1)!.via).toMatch(/^relay 127\.0\.0\.1:\d+$/);
    expect(state.requests.at(-1)!.bytesOut).toBeGreaterThan(0);
    // Only loopback names may ask (no DNS rebinding into the request list).
    const foreign = await request(`http://127.0.0.1:${inspector}/api/state`, {
      headers: { host: 'evil.example' },
    });
    expect(foreign.statusCode).toBe(421);
    await foreign.body.dump();
    await node.kill('SIGTERM');
    expect(node.child.exitCode).toBe(0);
  });

  it('--host-header hop keeps the Host of the last hop (the super node)', {
    timeout: 90_000,
  }, async () => {
    const app = await startUpstream('fay');
    closers.push(app.close);
    const node = await startNode('fay', [
      '--mode',
      'relay',
      '--upstream',
      app.url,
      '--host-header',
      'hop',
      '--inspector',
      'off',
    ]);
    await node.waitFor(/"state":"online"[^\n]*tunnel=up/, 60_000);
    const seen = JSON.parse((await visit('fay', '/headers')).body);
    expect(seen.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen['x-forwarded-host']).toBe(`fay.localhost:${net.gatewayPort}`);
    await node.kill('SIGTERM');
  });
});
