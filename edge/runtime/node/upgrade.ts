/**
 * WebSocket (and any other Upgrade) traffic on the Node gateway: the handshake is forwarded to the
 * first upstream that accepts it, then the two sockets are piped raw, so frames pass untouched.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Edge } from '../../app.ts';
import { EdgeError, statusOf } from '../../errors.ts';
import { RELAY_ERROR_HEADER, tryNextUpstream } from '../../failover.ts';
import type { UpstreamCandidate } from '../../forward.ts';

export interface UpgradeOptions {
  /** Longest wait for an upstream's handshake answer, ms. */
  handshakeTimeoutMs: number;
  /** Upstream TLS: verify certificates (a direct node's endpoint). */
  rejectUnauthorized: boolean;
}

function writeRaw(socket: Duplex, status: number, headers: Record<string, string>, body: string): void {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`];
  const all = { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

type Attempt =
  | { kind: 'upgraded'; res: http.IncomingMessage; socket: Duplex; head: Buffer }
  | { kind: 'response'; res: http.IncomingMessage }
  | { kind: 'failed'; reason: string };

function attempt(candidate: UpstreamCandidate, method: string, options: UpgradeOptions): Promise<Attempt> {
  const url = new URL(candidate.url);
  const headers: Record<string, string> = {};
  candidate.headers.forEach((v, k) => (headers[k] = v));
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(url, { method, headers, agent: false, rejectUnauthorized: options.rejectUnauthorized });
    const timer = setTimeout(() => req.destroy(new Error('handshake timed out')), options.handshakeTimeoutMs);
    req.on('upgrade', (res, socket, head) => {
      clearTimeout(timer);
      resolve({ kind: 'upgraded', res, socket, head });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve({ kind: 'response', res });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ kind: 'failed', reason: e.message });
    });
    req.end();
  });
}

function pipeBoth(client: Duplex, upstream: Duplex): void {
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
}

/** Handles one 'upgrade' event of the gateway's server. Never throws. */
export async function handleUpgrade(
  edge: Edge,
  incoming: http.IncomingMessage,
  client: Duplex,
  clientHead: Buffer,
  options: UpgradeOptions,
): Promise<void> {
  client.on('error', () => client.destroy());
  try {
    const encrypted = (incoming.socket as { encrypted?: boolean }).encrypted === true;
    const host = incoming.headers.host ?? '';
    if (!/^[a-z0-9.-]+(?::\d{1,5})?$/i.test(host)) throw new EdgeError('MALFORMED_HOST', 'missing or malformed Host');
    const headers = new Headers();
    for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
    const request = new Request(`${encrypted ? 'https' : 'http'}://${host}${incoming.url ?? '/'}`, { method: incoming.method, headers });
    const plan = await edge.plan(request, { clientIp: incoming.socket.remoteAddress });
    if (plan.kind !== 'node') throw new EdgeError('NOT_FOUND', 'upgrades are served on node names only');
    const failures: string[] = [];
    for (let i = 0; i < plan.candidates.length; i++) {
      const result = await attempt(plan.candidates[i], incoming.method ?? 'GET', options);
      if (result.kind === 'failed') {
        failures.push(`${plan.candidates[i].label}: ${result.reason}`);
        continue;
      }
      if (result.kind === 'response') {
        const { res } = result;
        if (tryNextUpstream(res.statusCode ?? 0, res.headers[RELAY_ERROR_HEADER] as string | undefined, i === plan.candidates.length - 1)) {
          res.resume();
          continue;
        }
        const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
        for (let h = 0; h < res.rawHeaders.length; h += 2) lines.push(`${res.rawHeaders[h]}: ${res.rawHeaders[h + 1]}`);
        client.write(lines.join('\r\n') + '\r\n\r\n');
        res.pipe(client);
        return;
      }
      const { res, socket, head } = result;
      const lines = ['HTTP/1.1 101 Switching Protocols'];
      for (let h = 0; h < res.rawHeaders.length; h += 2) lines.push(`${res.rawHeaders[h]}: ${res.rawHeaders[h + 1]}`);
      client.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) client.write(head);
      if (clientHead.length) socket.write(clientHead);
      pipeBoth(client, socket);
      return;
    }
    throw new EdgeError('UPSTREAM_UNAVAILABLE', `every upstream of "${plan.name}" is down (${failures.join('; ')})`);
  } catch (e) {
    const error = e instanceof EdgeError ? e : new EdgeError('INTERNAL', (e as Error).message);
    writeRaw(client, statusOf(error.code), { 'content-type': 'text/plain; charset=utf-8', 'x-pc2-error': error.code }, `${error.code}: ${error.message}\n`);
  }
}
