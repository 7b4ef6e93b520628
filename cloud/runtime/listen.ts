/**
 * A tiny runner: serves a cloud on 127.0.0.1 (the node's tunnel or gateway reaches it there). Port 0
 * picks a free port; `http://127.0.0.1:<port>` is added to the origins so local clients work.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCloud, type Cloud, type CloudOptions } from '../index.ts';

export interface RunningCloud {
  cloud: Cloud;
  server: Server;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function listenCloud(
  options: Omit<CloudOptions, 'origins'> & { origins?: string[] },
  listen: { host?: string; port?: number } = {},
): Promise<RunningCloud> {
  const host = listen.host ?? '127.0.0.1';
  let cloud: Cloud | undefined;
  const server = createServer(
    { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 },
    (req, res) => cloud!.handle(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    cloud = createCloud({ ...options, origins: [...(options.origins ?? []), url] });
  } catch (e) {
    server.close();
    throw e;
  }
  return {
    cloud,
    server,
    port,
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cloud!.close();
    },
  };
}
