/** The conformance suite against the Node.js gateway (plain HTTP, as `pc2 devnet` serves it). */
import { startGateway } from '../../../../edge/runtime/node/server.ts';
import { edgeConformanceSuite } from '../../conformance.ts';

edgeConformanceSuite({
  runtime: 'node',
  async start(world) {
    const gateway = await startGateway({
      config: world.config,
      hostname: '127.0.0.1',
      httpPort: 0,
    });
    return { baseUrl: `http://127.0.0.1:${gateway.ports.http}`, close: () => gateway.close() };
  },
});
