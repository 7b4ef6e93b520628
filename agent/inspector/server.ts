/**
 * The owner's local inspector (as ngrok users know it): one page with the node's state and the last
 * requests through its entry, kept live by server-sent events. It listens on loopback by default;
 * because it shows every request, it answers only requests whose Host is the address it listens on
 * or localhost (a page on the web cannot reach it by DNS rebinding), and its one write, clearing the
 * list, needs a header a cross-site form cannot send.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkOptions, integer, nonEmptyString, type Rules } from '../../shared/options.ts';
import type { AgentStatus } from '../agent-status.ts';
import { AgentError } from '../errors.ts';
import type { RequestLog, RequestRecord } from '../request-log.ts';
import { INSPECTOR_PAGE } from './page.ts';

/** What the inspector needs of a node agent. */
export interface InspectedAgent {
  status(): AgentStatus;
  readonly requests: RequestLog;
  on(event: 'status', listener: (s: AgentStatus) => void): unknown;
  off(event: 'status', listener: (s: AgentStatus) => void): unknown;
}

export interface Inspector {
  url: string;
  close(): Promise<void>;
}

export const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

export const CLEAR_HEADER = 'x-pc2-inspector';
const MAX_CLIENTS = 32;

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(type.startsWith('text/html')
      ? {
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
          'x-frame-options': 'DENY',
        }
      : {}),
  });
  res.end(body);
}

export interface InspectorOptions {
  /** Loopback unless the owner opened it on purpose (pc2 node --inspector-public). */
  host: string;
  /** 0 for any free port. */
  port: number;
}

const INSPECTOR_OPTIONS = {
  host: nonEmptyString,
  port: integer(0, 65535),
} satisfies Rules<InspectorOptions>;

export async function startInspector(
  agent: InspectedAgent,
  inspectorOptions: InspectorOptions,
): Promise<Inspector> {
  const options = checkOptions(
    inspectorOptions,
    INSPECTOR_OPTIONS,
    'inspector options',
    (message) => new AgentError('INVALID_OPTIONS', message),
  );
  const clients = new Set<ServerResponse>();
  const event = (name: string, data: unknown) =>
    `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const broadcast = (text: string) => {
    for (const c of clients) c.write(text);
  };
  const onStatus = (s: AgentStatus) => broadcast(event('status', s));
  const onRequest = (r: RequestRecord) => broadcast(event('request', r));
  agent.on('status', onStatus);
  agent.requests.on('request', onRequest);
  /** Loopback only: on an address the owner opened on purpose (--inspector-public) any Host goes. */
  let allowedHosts: Set<string> | null = null;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (allowedHosts && !allowedHosts.has(host))
      return send(res, 421, 'text/plain', 'wrong host\n');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/')
      return send(res, 200, 'text/html; charset=utf-8', INSPECTOR_PAGE);
    if (req.method === 'GET' && path === '/api/state')
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({ status: agent.status(), requests: agent.requests.list() }),
      );
    if (req.method === 'GET' && path === '/api/events') {
      if (clients.size >= MAX_CLIENTS) return send(res, 503, 'text/plain', 'too many viewers\n');
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(event('state', { status: agent.status(), requests: agent.requests.list() }));
      clients.add(res);
      res.on('close', () => clients.delete(res));
      return;
    }
    if (req.method === 'POST' && path === '/api/clear') {
      if (req.headers[CLEAR_HEADER] !== '1')
        return send(res, 403, 'text/plain', 'missing header\n');
      agent.requests.clear();
      broadcast(event('cleared', {}));
      return send(res, 200, 'application/json', '{"cleared":true}');
    }
    send(res, 404, 'text/plain', 'not found\n');
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  if (isLoopback(options.host)) allowedHosts = new Set([`${shown}:${port}`, `localhost:${port}`]);
  const keepAlive = setInterval(() => broadcast(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  return {
    url: `http://${options.host === '0.0.0.0' ? '127.0.0.1' : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(keepAlive);
        agent.off('status', onStatus);
        agent.requests.off('request', onRequest);
        for (const c of clients) c.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
