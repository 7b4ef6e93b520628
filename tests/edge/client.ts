/**
 * HTTP client for the conformance suite: node:http(s) with an explicit Host header (fetch drops
 * it), raw bodies (nothing decompressed), and access to the streams for streaming tests.
 */
import http from 'node:http';
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
  const { req, res } = open(base, host, path, init);
  req.end(init.body);
  const response = await res;
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    body: await readAll(response),
  };
}
