/**
 * bench:edge's TLS part: the Node.js gateway (1 worker) over TLS with the same load generator
 * (h2load) for every row, so HTTP/1.1 and HTTP/2 differ in nothing else:
 * - HTTP/1.1 on the server as it was before HTTP/2 and private names (node:https, no SNI front);
 * - HTTP/1.1 on the server as it is (node:http2 with allowHTTP1, behind the SNI front);
 * - HTTP/2 on the same server, one stream per connection (the same concurrency as HTTP/1.1);
 * - HTTP/2 with the streams multiplexed over a few connections, as browsers do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeConfig } from '../edge/config.ts';
import { makeCertificate } from '../tests/edge/certs.ts';
import {
  type BenchGatewayOptions,
  type Cpu,
  processCpu,
  type Running,
  startGateway,
  sumCpu,
} from './edge-processes.ts';
import { type H2loadResult, hasH2load, runH2load } from './h2load.ts';

export interface TlsRow extends H2loadResult {
  label: string;
  /** CPU every process on the path except h2load used per request, us. */
  cpuUsPerRequest: number;
  clientCpuUsPerRequest: number;
}

const CASES: {
  key: string;
  label: string;
  server: BenchGatewayOptions;
  protocol: 'http/1.1' | 'h2';
  connections: number;
  streams: number;
}[] = [
  {
    key: 'before',
    label: 'HTTP/1.1, node:https server (before h2), no SNI front',
    server: { http2: false, privateNames: false },
    protocol: 'http/1.1',
    connections: 32,
    streams: 1,
  },
  {
    key: 'h1',
    label: 'HTTP/1.1, node:http2 server (allowHTTP1), SNI front',
    server: {},
    protocol: 'http/1.1',
    connections: 32,
    streams: 1,
  },
  {
    key: 'h2',
    label: 'HTTP/2, same server, 32 connections x 1 stream',
    server: {},
    protocol: 'h2',
    connections: 32,
    streams: 1,
  },
  {
    key: 'h2mux',
    label: 'HTTP/2, same server, 4 connections x 8 streams',
    server: {},
    protocol: 'h2',
    connections: 4,
    streams: 8,
  },
];

export async function tlsComparison(
  config: EdgeConfig,
  upstream: Running,
  seconds: number,
  warmupSeconds: number,
): Promise<TlsRow[] | string> {
  if (!hasH2load()) return 'skipped: h2load not installed (apt-get install nghttp2-client)';
  const dir = mkdtempSync(join(tmpdir(), 'pc2-bench-tls-'));
  const tls = makeCertificate(dir, 'gateway');
  const rows: TlsRow[] = [];
  try {
    for (const c of CASES) {
      const gateway = await startGateway(config, 1, { tls, ...c.server });
      try {
        const cpu = (): Cpu => sumCpu(processCpu(upstream.pid), processCpu(gateway.pid));
        const run = (s: number, w: number) =>
          runH2load({
            url: `https://alice.localhost:${gateway.port}/`,
            connectTo: `127.0.0.1:${gateway.port}`,
            protocol: c.protocol,
            seconds: s,
            warmupSeconds: w,
            connections: c.connections,
            streams: c.streams,
          });
        await run(warmupSeconds, 1); // JIT, pools
        const before = cpu();
        const r = await run(seconds, 1);
        const after = cpu();
        const perRequest = (msUsed: number) => (msUsed * 1000) / r.requests;
        rows.push({
          ...r,
          label: c.label,
          cpuUsPerRequest: perRequest(after.user + after.system - before.user - before.system),
          clientCpuUsPerRequest: perRequest(r.clientCpuMs),
        });
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
