/** The passthrough suite inside Deno (run by tests/run-deno.sh): the gateway is edge/runtime/deno.ts's. */
import { serveEdge } from '../../../edge/runtime/deno.ts';
import { passthroughSuite } from '../passthrough.ts';

passthroughSuite({
  runtime: 'deno',
  async start(world, { developerMode }) {
    let port = 0;
    let server: ReturnType<typeof serveEdge> | undefined;
    await new Promise<void>((resolve) => {
      server = serveEdge(
        {
          config: { ...world.config, developerMode },
          hostname: '127.0.0.1',
          port: 0,
          cert: world.gatewayCert.cert,
          key: world.gatewayCert.key,
        },
        (addr) => {
          port = addr.port;
          resolve();
        },
      );
    });
    return {
      port,
      stats: () => ({ ...server!.stats! }),
      close: () => server!.shutdown(),
    };
  },
});
