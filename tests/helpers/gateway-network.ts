/** Two real super nodes in this process and a real Node.js gateway in front of them, on loopback. */
import { type Gateway, startGateway } from '../../edge/runtime/node/server.ts';
import { KeyPair } from '../../shared/keys.ts';
import { type RunningSuperNode, startSuperNodes } from './devnet-parts.ts';

export interface GatewayNetwork {
  superNodes: RunningSuperNode[];
  gateway: Gateway;
  gatewayPort: number;
  close(): Promise<void>;
}

export async function startGatewayNetwork(count = 2): Promise<GatewayNetwork> {
  const edgeKey = KeyPair.generate();
  const cluster = await startSuperNodes(count, [edgeKey]);
  const gateway = await startGateway({
    config: {
      zone: 'localhost',
      registrarKeys: cluster.nodes.map((n) => n.key.id.toString()),
      edgeKey: edgeKey.bosonPrivateKeyBase58(),
      superNodes: cluster.nodes.map((n) => ({ id: n.key.id.toString(), url: n.url })),
      // Direct endpoints here are on loopback, which a gateway refuses outside developer mode.
      developerMode: true,
    },
    hostname: '127.0.0.1',
    httpPort: 0,
  }).catch(async (e) => {
    await cluster.close();
    throw e;
  });
  return {
    superNodes: cluster.nodes,
    gateway,
    gatewayPort: gateway.ports.http!,
    async close() {
      await gateway.close();
      await cluster.close();
    },
  };
}
