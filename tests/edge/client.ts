/**
 * HTTP client for the conformance suite: node:http(s) with an explicit Host header (fetch drops
 * it), raw bodies (nothing decompressed), and access to the streams for streaming tests; or the same
 * over HTTP/2 (node:http2, `:authority` for Host), one connection per exchange.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Exchange {
  req: http.ClientRequest;
  res: Promise<http.IncomingMessage>;
}

/** Starts a request to `base` (the edge's listening origin) for `host`; the caller writes the body. */
export function open(
  base: string,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Exchange {
  const u = new URL(base);
  const lib = u.protocol === 'https:' ? https : http;
  const req = lib.request({
    host: u.hostname,
    port: u.port,
    method: init.method ?? 'GET',
    path,
    agent: false,
    servername: u.protocol === 'https:' ? host.replace(/:\d+$/, '') : undefined,
    rejectUnauthorized: false,
    headers: { host, ...init.headers },
  });
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  return { req, res };
}

/** Fields HTTP/2 forbids (connection-specific); an h2 client cannot send them at all. */
const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** `open` over HTTP/2: the request stream stands for the ClientRequest, the response stream for the IncomingMessage. */
export function openH2(
  base: string,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Exchange {
  const session = http2.connect(base, {
    servername: host.replace(/:\d+$/, ''),
    rejectUnauthorized: false,
  });
  session.on('error', () => {});
  const headers: http2.OutgoingHttpHeaders = {
    ':method': init.method ?? 'GET',
    ':path': path,
    ':authority': host,
  };
  for (const [k, v] of Object.entries(init.headers ?? {}))
    if (!H2_FORBIDDEN.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
  const stream = session.request(headers, { endStream: false });
  stream.on('close', () => session.close());
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    stream.on('response', (h) => {
      const { ':status': status, ...rest } = h;
      Object.assign(stream, { statusCode: Number(status), headers: rest });
      resolve(stream as unknown as http.IncomingMessage);
    });
    stream.on('error', reject);
  });
  return { req: stream as unknown as http.ClientRequest, res };
}

export interface ConformanceClient {
  open: typeof open;
  send: typeof send;
}

/** The suite's client: HTTP/1.1 (https or http by the base URL) or HTTP/2. */
export function clientFor(protocol: 'http/1.1' | 'h2'): ConformanceClient {
  if (protocol === 'http/1.1') return { open, send };
  return {
    open: openH2,
    send: (base, host, path, init = {}) => exchange(openH2(base, host, path, init), init.body),
  };
}

export function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.resume();
  });
}

/** Resolves with the next chunk the response delivers. */
export function nextChunk(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      res.off('error', reject);
      res.pause();
      resolve(c);
    };
    res.once('data', onData);
    res.once('error', reject);
    res.resume();
  });
}

export async function send(
  base: string,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return exchange(open(base, host, path, init), init.body);
}

async function exchange({ req, res }: Exchange, body?: string | Buffer): Promise<RawResponse> {
  req.end(body);
  const response = await res;
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    body: await readAll(response),
  };
}
