/**
 * WebSocket (and any other Upgrade) traffic on the Node.js gateway: the handshake is forwarded to
 * the first target that accepts it, then the two sockets are piped raw, so frames pass untouched.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import type { Edge, Target } from '../../app.ts';
import { EdgeError, statusOf } from '../../errors.ts';
import { NODE_ERROR_HEADER, nodeError, RELAY_ERROR_HEADER, tryNextTarget } from '../../failover.ts';
import { targetUrl, unavailable } from '../../forward.ts';
import { forwardedRawHeaders } from '../../headers.ts';
import { hostCount } from './fast-path.ts';
import { publicLookup } from './fetch.ts';

export interface UpgradeOptions {
  /** Longest wait for a target's handshake answer, ms. */
  handshakeTimeoutMs: number;
  /** TLS to the target: verify certificates (a direct node's endpoint). */
  rejectUnauthorized: boolean;
  /** Admits direct endpoints on non-public addresses (EdgeConfig.developerMode). */
  developerMode: boolean;
}

function writeRaw(
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`];
  const all = {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

type Attempt =
  | { kind: 'upgraded'; res: http.IncomingMessage; socket: Duplex; head: Buffer }
  | { kind: 'response'; res: http.IncomingMessage }
  | { kind: 'failed'; reason: string };

function attempt(
  target: Target,
  url: URL,
  forwarded: readonly string[],
  method: string,
  options: UpgradeOptions,
): Promise<Attempt> {
  const headers: Record<string, string> = {};
  // Repeated fields are joined, as a Headers object would.
  for (let i = 0; i < forwarded.length; i += 2)
    headers[forwarded[i]] =
      headers[forwarded[i]] === undefined
        ? forwarded[i + 1]
        : `${headers[forwarded[i]]}, ${forwarded[i + 1]}`;
  if (target.ingress) {
    headers[INGRESS_HEADERS.nodeId] = target.ingress.nodeId;
    headers[INGRESS_HEADERS.edgeToken] = target.ingress.edgeToken;
  }
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(url, {
      method,
      headers,
      agent: false,
      rejectUnauthorized: options.rejectUnauthorized,
      // A direct node's name is resolved once, and only to a public address (fetch.ts).
      ...(target.direct ? { lookup: publicLookup(options.developerMode) } : {}),
    });
    const timer = setTimeout(
      () => req.destroy(new Error('handshake timed out')),
      options.handshakeTimeoutMs,
    );
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

function pipeBoth(client: Duplex, target: Duplex): void {
  client.pipe(target).pipe(client);
  const close = () => {
    client.destroy();
    target.destroy();
  };
  client.on('error', close).on('close', close);
  target.on('error', close).on('close', close);
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
    if (!/^[a-z0-9.-]+(?::\d{1,5})?$/i.test(host) || hostCount(incoming.rawHeaders) !== 1)
      throw new EdgeError('MALFORMED_HOST', 'missing, repeated or malformed Host');
    const url = new URL(`${encrypted ? 'https' : 'http'}://${host}${incoming.url ?? '/'}`);
    const route = await edge.route(url);
    if (route.kind !== 'node')
      throw new EdgeError('NOT_FOUND', 'upgrades are served on node names only');
    const forwarded = forwardedRawHeaders(incoming.rawHeaders, {
      clientIp: incoming.socket.remoteAddress,
      host: url.host,
      proto: url.protocol.slice(0, -1),
    });
    const failures: string[] = [];
    for (let i = 0; i < route.targets.length; i++) {
      const target = route.targets[i];
      const result = await attempt(
        target,
        new URL(targetUrl(target, url)),
        forwarded,
        incoming.method ?? 'GET',
        options,
      );
      if (result.kind === 'failed') {
        failures.push(`${target.label}: ${result.reason}`);
        continue;
      }
      if (result.kind === 'response') {
        const { res } = result;
        const appDown = nodeError(
          res.statusCode ?? 0,
          res.headers[NODE_ERROR_HEADER] as string | undefined,
          route.name,
        );
        if (appDown) {
          res.resume();
          throw appDown;
        }
        const relayError = res.headers[RELAY_ERROR_HEADER] as string | undefined;
        if (tryNextTarget(res.statusCode ?? 0, relayError, i === route.targets.length - 1)) {
          failures.push(
            `${target.label}: HTTP ${res.statusCode}${relayError ? ` ${relayError}` : ''}`,
          );
          res.resume();
          continue;
        }
        const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
        for (let h = 0; h < res.rawHeaders.length; h += 2)
          lines.push(`${res.rawHeaders[h]}: ${res.rawHeaders[h + 1]}`);
        client.write(lines.join('\r\n') + '\r\n\r\n');
        res.pipe(client);
        return;
      }
      const { res, socket, head } = result;
      const lines = ['HTTP/1.1 101 Switching Protocols'];
      for (let h = 0; h < res.rawHeaders.length; h += 2)
        lines.push(`${res.rawHeaders[h]}: ${res.rawHeaders[h + 1]}`);
      client.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) client.write(head);
      if (clientHead.length) socket.write(clientHead);
      pipeBoth(client, socket);
      return;
    }
    throw unavailable(route, failures);
  } catch (e) {
    const error = e instanceof EdgeError ? e : new EdgeError('INTERNAL', (e as Error).message);
    writeRaw(
      client,
      statusOf(error.code),
      { 'content-type': 'text/plain; charset=utf-8', 'x-pc2-error': error.code },
      `${error.code}: ${error.message}\n`,
    );
  }
}
