/** The super node's name registry: `createRegistry` builds it, `startRegistryServer` serves it over HTTP. */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { refuseBody } from '../body-limit.ts';
import { createRegistryApp, MAX_PUSH_BODY_BYTES } from './app.ts';
import { type RegistryOptions, resolveOptions } from './options.ts';
import { Replication } from './replication.ts';
import { RegistryService } from './service.ts';
import { RegistryStore } from './store.ts';
import { RegistryLimits } from './limits.ts';
import { httpFastPath } from './fast-path.ts';

export { RegistryError, REGISTRY_ERROR_STATUS, type RegistryErrorCode } from './errors.ts';
export type { RegistryOptions, RateLimitOptions, PeerOption, Clock, Logger } from './options.ts';
export { RegistryStore } from './store.ts';
export { Replication, type ReplicationStats } from './replication.ts';
export { MAX_PUSH_BODY_BYTES } from './app.ts';
export { checkEndpoint } from '../../shared/endpoint.ts';

export interface Registry {
  app: Hono;
  store: RegistryStore;
  replication: Replication;
  service: RegistryService;
  /** The rate limits (their `refused` counts are read by the metrics; the super node's probe draws on them too). */
  limits: RegistryLimits;
  /** node:http handler for resolves and signed writes (true when it answered); startRegistryServer puts it before `app`. */
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  close(): Promise<void>;
}

export function createRegistry(options: RegistryOptions): Registry {
  const resolved = resolveOptions(options);
  const store = RegistryStore.open(resolved.dataDir, {
    compactMinBytes: resolved.compactMinBytes,
    logger: resolved.logger,
  });
  const service = new RegistryService(resolved, store);
  const replication = new Replication(resolved, store, service);
  const limits = new RegistryLimits(resolved);
  const app = createRegistryApp(resolved, service, replication, limits, store);
  replication.start();
  return {
    app,
    fastPath: httpFastPath(service, limits, resolved.logger),
    store,
    replication,
    service,
    limits,
    async close() {
      await replication.close();
      await store.close();
    },
  };
}

export interface RegistryServer {
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

/** Creates the registry and serves it; `port: 0` picks a free port (see `url`). */
export async function startRegistryServer(
  options: RegistryOptions & { host: string; port: number },
): Promise<RegistryServer> {
  const { host, port, ...rest } = options;
  const registry = createRegistry(rest);
  const honoListener = getRequestListener(registry.app.fetch);
  const server: Server = createServer((req, res) => {
    if (refuseBody(req, res, MAX_PUSH_BODY_BYTES)) return;
    if (!registry.fastPath(req, res)) void honoListener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostPart}:${address.port}`,
    registry,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await registry.close();
    },
  };
}
