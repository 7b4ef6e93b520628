/**
 * The personal cloud `pc2 node` serves when no --upstream is given. The composition root owns it:
 * it listens on loopback first (the agent needs an upstream address to start), and the cloud itself
 * is created once the agent knows the node's public origin; until then the listener answers 503.
 * The agent never learns that the app is the cloud: it sees an upstream URL like any other app.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cloud, CloudOptions } from '../cloud/index.ts';
import type { Logger } from '../shared/logger.ts';

export interface NodeCloud {
  /** http://127.0.0.1:<port>: what the agent is given as its upstream. */
  url: string;
  /** Creates the cloud for these public origins (the loopback URL is added). */
  open(origins: string[]): Promise<Cloud>;
  cloud(): Cloud | null;
  close(): Promise<void>;
}

export async function listenNodeCloud(
  options: Omit<CloudOptions, 'origins'>,
  host = '127.0.0.1',
): Promise<NodeCloud> {
  let cloud: Cloud | null = null;
  const server: Server = createServer(
    // Uploads of many GiB through WebDAV and tus: no overall request time limit.
    { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      if (cloud) return cloud.handle(req, res);
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the cloud is starting' } }));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async open(origins) {
      // Loaded once the node is up: failing early (a usage error, a taken name) stays quick.
      const { createCloud } = await import('../cloud/index.ts');
      cloud ??= createCloud({ ...options, origins: [...new Set([...origins, url])] });
      return cloud;
    },
    cloud: () => cloud,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cloud?.close();
    },
  };
}

/** The line `pc2 node` and `pc2 devnet` print while a cloud has no owner. */
export function ownerCodeLine(cloud: Cloud, publicUrl: string): string | null {
  const code = cloud.ownerCode();
  if (!code) return null;
  return `owner code ${code}: sign in at ${publicUrl} with your wallet and this code to become this node's owner (it works once)`;
}

export type { Logger };
