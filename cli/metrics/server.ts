/**
 * The metrics' own listen address (`--metrics 127.0.0.1:9464`): GET /metrics answers the Prometheus
 * text; anything else is 404, and nothing but loopback is bound unless the operator names an address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, EXIT } from '../errors.ts';
import { parseHostPort } from '../flags.ts';

export interface MetricsAddress {
  host: string;
  port: number;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** `9464`, `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`. */
export function parseMetricsAddress(text: string, flag = '--metrics'): MetricsAddress {
  const t = text.trim();
  const at = /^\d{1,5}$/.test(t)
    ? { host: DEFAULT_METRICS_HOST, port: Number(t) }
    : parseHostPort(t);
  if (!at || at.port > 65535)
    throw new CliError(
      `${flag} takes [<address>:]<port>, e.g. 127.0.0.1:9464; got "${text}"`,
      EXIT.USAGE,
    );
  return at;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export type Render = () => Promise<{ contentType: string; body: string }>;

export async function startMetricsServer(
  address: MetricsAddress,
  render: Render,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    render().then(
      ({ contentType, body }) =>
        res
          .writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : body),
      (e: Error) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: Error) => {
    throw new CliError(
      `cannot listen for metrics on ${address.host}:${address.port}: ${e.message}`,
    );
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
