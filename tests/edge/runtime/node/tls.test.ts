/**
 * The Node.js gateway's TLS: TLS 1.3 only, HSTS, port-80 redirect, and a certificate swapped on disk
 * used by new handshakes without a restart while open connections carry on.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { type CertificatePair, makeCertificate } from '../../certs.ts';
import { edgeConformanceSuite } from '../../conformance.ts';
import { createWorld, type World } from '../../world.ts';

interface Handshake {
  socket: tls.TLSSocket;
  fingerprint: string;
  protocol: string | null;
}

function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port,
        servername: 'alice.localhost',
        rejectUnauthorized: false,
        ...options,
      },
      () => {
        resolve({
          socket,
          fingerprint: socket.getPeerCertificate().fingerprint256,
          protocol: socket.getProtocol(),
        });
      },
    );
    socket.once('error', reject);
  });
}

/** One HTTP/1.1 request on an already open TLS socket; resolves with the status line. */
function requestOn(socket: tls.TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}

describe('Node gateway TLS', () => {
  let world: World;
  let gateway: Gateway;
  let dir: string;
  let first: CertificatePair;

  beforeAll(async () => {
    world = await createWorld();
    dir = mkdtempSync(join(tmpdir(), 'pc2-edge-tls-'));
    first = makeCertificate(dir, 'live', 'first');
    gateway = await startGateway({
      config: world.config,
      hostname: '127.0.0.1',
      httpsPort: 0,
      httpPort: 0,
      tls: { ...first, reloadIntervalMs: 50 },
      onError: () => {},
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a TLS 1.2-only client', async () => {
    await expect(handshake(gateway.ports.https!, { maxVersion: 'TLSv1.2' })).rejects.toThrow(
      /version|alert|protocol/i,
    );
  });

  it('serves TLS 1.3 with HSTS', async () => {
    const h = await handshake(gateway.ports.https!);
    expect(h.protocol).toBe('TLSv1.3');
    expect(await requestOn(h.socket, 'localhost')).toBe('HTTP/1.1 200 OK');
    h.socket.destroy();
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: gateway.ports.https,
            path: '/',
            headers: { host: 'localhost' },
            rejectUnauthorized: false,
            agent: false,
          },
          resolve,
        )
        .on('error', reject);
    });
    res.resume();
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+; includeSubDomains$/);
  });

  it('offers h2 and http/1.1 by ALPN', async () => {
    for (const [offered, chosen] of [
      [['h2', 'http/1.1'], 'h2'],
      [['http/1.1'], 'http/1.1'],
    ] as const) {
      const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect(
          {
            host: '127.0.0.1',
            port: gateway.ports.https!,
            servername: 'alice.localhost',
            rejectUnauthorized: false,
            ALPNProtocols: [...offered],
          },
          () => resolve(s),
        );
        s.once('error', reject);
      });
      expect(socket.alpnProtocol).toBe(chosen);
      socket.destroy();
    }
  });

  it('redirects plain HTTP on the port-80 server to https', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port: gateway.ports.http,
            path: '/a/b?c=1',
            headers: { host: 'alice.localhost' },
            agent: false,
          },
          resolve,
        )
        .on('error', reject);
    });
    res.resume();
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`https://alice.localhost:${gateway.ports.https}/a/b?c=1`);
  });

  it('uses a certificate swapped on disk for new handshakes, without a restart or dropping open connections', async () => {
    const before = await handshake(gateway.ports.https!);
    const reloads = gateway.certificateReloads;
    const next = makeCertificate(dir, 'next', 'second');
    // Key first, then certificate: the watcher skips the mismatched pair in between.
    renameSync(next.keyFile, first.keyFile);
    renameSync(next.certFile, first.certFile);
    for (let i = 0; i < 200 && gateway.certificateReloads === reloads; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(gateway.certificateReloads).toBeGreaterThan(reloads);
    const after = await handshake(gateway.ports.https!);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.socket.getPeerCertificate().subject.CN).toBe('second');
    // The connection opened before the swap still serves requests.
    expect(await requestOn(before.socket, 'localhost')).toBe('HTTP/1.1 200 OK');
    before.socket.destroy();
    after.socket.destroy();
  });
});

describe('Node gateway TLS, slow clients', () => {
  it('cuts an HTTP/1.1 client that does not finish its headers (408), behind the SNI front too', async () => {
    const world = await createWorld();
    const gateway = await tlsGateway(world, { headersTimeoutMs: 500 });
    try {
      const h = await handshake(gateway.port, { ALPNProtocols: ['http/1.1'] });
      h.socket.write('GET / HTTP/1.1\r\nhost: alice.localhost\r\n');
      let answer = '';
      h.socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      await new Promise((r) => h.socket.once('close', r));
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      await gateway.close();
      await world.close();
    }
  });
});

/** A TLS gateway for the conformance suite, with a throwaway certificate. */
async function tlsGateway(world: World, extra: { headersTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-edge-tls-'));
  const gateway = await startGateway({
    config: world.config,
    hostname: '127.0.0.1',
    httpsPort: 0,
    httpPort: null,
    tls: makeCertificate(dir, 'edge'),
    ...extra,
  });
  return {
    port: gateway.ports.https!,
    baseUrl: `https://127.0.0.1:${gateway.ports.https}`,
    async close() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

edgeConformanceSuite({ runtime: 'node, https', start: tlsGateway });

// The same suite over HTTP/2 (WebSockets on HTTP/1.1 to the same port).
edgeConformanceSuite({
  runtime: 'node, h2',
  protocol: 'h2',
  // HTTP/2 has no Connection header to list fields in.
  seesConnectionHeader: false,
  start: tlsGateway,
});
