/**
 * The Node.js gateway on two worker processes: the conformance suite through them, a certificate
 * swapped on disk reaching every worker, and a killed worker replaced on the same port.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayCluster, startGatewayCluster } from '../../../../edge/runtime/node/cluster.ts';
import { makeCertificate } from '../../certs.ts';
import { edgeConformanceSuite } from '../../conformance.ts';
import { createWorld, type World } from '../../world.ts';

function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: 'alice.localhost', rejectUnauthorized: false },
      () => {
        const cn = socket.getPeerCertificate().subject.CN;
        socket.destroy();
        resolve(String(cn));
      },
    );
    socket.once('error', reject);
  });
}

function getStatus(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Node gateway with 2 workers', () => {
  let world: World;
  let dir: string;
  let gateway: GatewayCluster;
  const errors: string[] = [];

  beforeAll(async () => {
    world = await createWorld();
    dir = mkdtempSync(join(tmpdir(), 'pc2-edge-workers-'));
    const first = makeCertificate(dir, 'live', 'first');
    gateway = await startGatewayCluster({
      config: world.config,
      hostname: '127.0.0.1',
      httpsPort: 0,
      httpPort: 0,
      tls: { ...first, reloadIntervalMs: 50 },
      workers: 2,
      onError: (e) => errors.push(e.message),
    });
  }, 90_000);

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('refuses options it cannot carry to another process', async () => {
    await expect(
      startGatewayCluster({ config: { ...world.config, now: Date.now } as never, workers: 2 }),
    ).rejects.toThrow(/other processes/);
    await expect(startGatewayCluster({ config: world.config, workers: 0 })).rejects.toThrow(
      /workers/,
    );
    await expect(
      startGatewayCluster({ config: world.config, workers: 1, bogus: 1 } as never),
    ).rejects.toThrow(/bogus/);
  });

  it('runs two worker processes and redirects plain HTTP from every one', async () => {
    expect(gateway.pids).toHaveLength(2);
    expect(new Set(gateway.pids).size).toBe(2);
    for (let i = 0; i < 4; i++)
      expect(await getStatus(gateway.ports.http!, 'alice.localhost', '/')).toBe(308);
  });

  it('uses a certificate swapped on disk in every worker, without a restart', async () => {
    for (let i = 0; i < 4; i++) expect(await peerCommonName(gateway.ports.https!)).toBe('first');
    const pids = gateway.pids;
    const next = makeCertificate(dir, 'next', 'second');
    renameSync(next.keyFile, join(dir, 'live.key.pem'));
    renameSync(next.certFile, join(dir, 'live.cert.pem'));
    for (let i = 0; i < 200 && gateway.certificateReloads === 0; i++) await sleep(50);
    expect(gateway.certificateReloads).toBeGreaterThanOrEqual(1);
    // Connections go to the workers in turn: several handshakes reach both.
    for (let i = 0; i < 6; i++) expect(await peerCommonName(gateway.ports.https!)).toBe('second');
    expect(gateway.pids).toEqual(pids);
    expect(gateway.restarts).toBe(0);
  });

  it('replaces a worker that dies, on the same ports', async () => {
    const [victim, survivor] = gateway.pids;
    process.kill(victim, 'SIGKILL');
    for (let i = 0; i < 400 && (gateway.restarts === 0 || gateway.pids.length < 2); i++)
      await sleep(50);
    expect(gateway.restarts).toBe(1);
    expect(gateway.pids).toContain(survivor);
    expect(gateway.pids).not.toContain(victim);
    expect(gateway.pids).toHaveLength(2);
    expect(errors.some((m) => m.includes(`worker ${victim} exited`))).toBe(true);
    for (let i = 0; i < 4; i++) expect(await peerCommonName(gateway.ports.https!)).toBe('second');
  });
});

edgeConformanceSuite({
  runtime: 'node, 2 workers',
  async start(world) {
    const gateway = await startGatewayCluster({
      config: world.config,
      hostname: '127.0.0.1',
      httpPort: 0,
      workers: 2,
    });
    return { baseUrl: `http://127.0.0.1:${gateway.ports.http}`, close: () => gateway.close() };
  },
});
