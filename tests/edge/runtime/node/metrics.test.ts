/**
 * The Node.js gateway's own metrics on real sockets: TLS handshakes by version and ALPN, failed
 * handshakes, the certificate's expiry, requests by route kind and status class with their
 * durations, failovers and route cache hits, and the apex's /metrics behind the bearer token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { request } from 'undici';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayMetrics,
  type GatewayMetrics,
} from '../../../../edge/runtime/node/metrics.ts';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { makeCertificate } from '../../certs.ts';
import { createWorld, type World } from '../../world.ts';

const TOKEN = 'a-token-long-enough-for-the-test';

describe('gateway metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-gw-metrics-'));
  let world: World;
  let gateway: Gateway;
  let metrics: GatewayMetrics;
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });

  beforeAll(async () => {
    world = await createWorld();
    metrics = createGatewayMetrics();
    gateway = await startGateway({
      config: world.config,
      hostname: '127.0.0.1',
      httpsPort: 0,
      httpPort: null,
      tls: makeCertificate(dir, 'edge'),
      observer: metrics.observer,
      metricsEndpoint: {
        token: TOKEN,
        render: async () => ({
          contentType: metrics.registry.contentType,
          body: await metrics.registry.metrics(),
        }),
      },
    });
    metrics.attach({
      edge: gateway.edge,
      certificateReloads: () => gateway.certificateReloads,
      certificateNotAfter: () => gateway.certificateNotAfter,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    await insecure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (path: string) => `https://127.0.0.1:${gateway.ports.https}${path}`;
  const get = async (host: string, path = '/', headers: Record<string, string> = {}) => {
    const res = await request(url(path), { dispatcher: insecure, headers: { host, ...headers } });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const sample = async (name: string, labels: string) => {
    await new Promise((r) => setTimeout(r, 20)); // a request is counted when its response closes
    const text = await metrics.registry.metrics();
    const prefix = labels ? `${name}{${labels}} ` : `${name} `;
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('counts requests by route kind and status class, with durations and cache hits', async () => {
    for (let i = 0; i < 3; i++) expect((await get('alice.localhost')).status).toBe(200);
    expect((await get('bob.localhost')).status).toBe(200);
    expect((await get('nobody.localhost')).status).toBe(404);
    expect((await get('localhost')).status).toBe(200);
    expect(await sample('pc2_gateway_requests_total', 'route="direct",code="2xx"')).toBe(3);
    expect(await sample('pc2_gateway_requests_total', 'route="relayed",code="2xx"')).toBe(1);
    expect(await sample('pc2_gateway_requests_total', 'route="unrouted",code="4xx"')).toBe(1);
    expect(await sample('pc2_gateway_requests_total', 'route="landing",code="2xx"')).toBe(1);
    expect(await sample('pc2_gateway_request_duration_seconds_count', 'route="direct"')).toBe(3);
    expect(await sample('pc2_gateway_route_cache_total', 'result="hit"')).toBeGreaterThanOrEqual(2);
  });

  it('counts TLS handshakes by version and ALPN, and failed ones', async () => {
    const before = await sample(
      'pc2_gateway_tls_handshakes_total',
      'version="TLSv1.3",alpn="none"',
    );
    await new Promise<void>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port: gateway.ports.https!,
          servername: 'alice.localhost',
          rejectUnauthorized: false,
        },
        () => {
          socket.end();
          resolve();
        },
      );
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await sample('pc2_gateway_tls_handshakes_total', 'version="TLSv1.3",alpn="none"')).toBe(
      before + 1,
    );
    // TLS 1.2 is refused by the gateway (TLS 1.3 only): a failed handshake.
    await new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: gateway.ports.https!,
        maxVersion: 'TLSv1.2',
        rejectUnauthorized: false,
      });
      socket.on('error', () => resolve());
      socket.on('secureConnect', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 50));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^pc2_gateway_tls_handshake_failures_total\{reason="[A-Z_]+"\} 1$/m);
    const expiry = await sample('pc2_gateway_certificate_expiry_timestamp_seconds', '');
    expect(expiry).toBeGreaterThan(Date.now() / 1000);
    expect(expiry).toBeLessThan(Date.now() / 1000 + 2 * 86400);
  });

  it('answers /metrics on the apex with the token only; a node keeps its own /metrics', async () => {
    expect((await get('localhost', '/metrics')).status).toBe(401);
    const ok = await get('localhost', '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('pc2_gateway_requests_total');
    const bob = await get('bob.localhost', '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(bob.body).not.toContain('pc2_gateway_requests_total');
  });
});
