/** A stand-alone HTTP server for the relay ingress (the super node can also mount the handlers on its API server). */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIngress, type Ingress, type IngressOptions } from './ingress.ts';

export interface IngressServer {
  server: Server;
  ingress: Ingress;
  address(): AddressInfo;
  close(): Promise<void>;
}

export async function startIngressServer(
  options: IngressOptions & { host?: string; port?: number },
): Promise<IngressServer> {
  const { host = '0.0.0.0', port = 8080, ...rest } = options;
  const ingress = createIngress(rest);
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  server.on('request', ingress.handleRequest);
  // The node answers 100-continue itself; the ingress relays its answer.
  server.on('checkContinue', ingress.handleRequest);
  server.on('upgrade', ingress.handleUpgrade);
  server.listen(port, host);
  await once(server, 'listening');
  return {
    server,
    ingress,
    address: () => server.address() as AddressInfo,
    close: async () => {
      ingress.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
