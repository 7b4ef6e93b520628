/** Real-socket fixtures for the tunnel tests: a server, clients, upstreams; all on 127.0.0.1:0. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { TunnelClient, type TunnelClientOptions } from '../../agent/tunnel/index.ts';
import { KeyPair } from '../../shared/keys.ts';
import { TunnelServer, type TunnelServerOptions } from '../../origin/tunnel/index.ts';

export const HOST = '127.0.0.1';

export async function startServer(
  options: Partial<TunnelServerOptions> = {},
): Promise<TunnelServer> {
  const server = new TunnelServer({ key: KeyPair.generate(), host: HOST, port: 0, ...options });
  await server.start();
  return server;
}

export function newClient(
  server: TunnelServer,
  upstreamPort: number,
  options: Partial<TunnelClientOptions> = {},
): TunnelClient {
  return new TunnelClient({
    serverHost: HOST,
    serverPort: server.address().port,
    servicePeerId: server.options.key.id,
    deviceKey: KeyPair.generate(),
    upstream: { host: HOST, port: upstreamPort },
    ...options,
  });
}

/** Resolves when the client reports `authenticated` (or rejects on `failed`). */
export function authenticated(client: TunnelClient): Promise<void> {
  if (client.state === 'authenticated') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAuth = () => {
      client.off('failed', onFail);
      resolve();
    };
    const onFail = (e: Error) => {
      client.off('authenticated', onAuth);
      reject(e);
    };
    client.once('authenticated', onAuth);
    client.once('failed', onFail);
  });
}

export interface TcpServer {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function tcpServer(onSocket: (socket: Socket) => void): Promise<TcpServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Echoes every byte back, half-closing after the peer does. */
export const echoServer = () => tcpServer((socket) => socket.pipe(socket));

/** An echo server for a test file: started before its tests, closed after them. */
export function echoServerForFile(): { readonly port: number } {
  let server: TcpServer | undefined;
  beforeAll(async () => {
    server = await echoServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get port() {
      return server!.port;
    },
  };
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export async function waitFor(
  check: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
