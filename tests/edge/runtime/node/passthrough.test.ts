/** The passthrough suite against the Node.js gateway, and HTTP/2's 421 for a private name. */
import http2 from 'node:http2';
import { expect, it } from 'vitest';
import { startGateway } from '../../../../edge/runtime/node/server.ts';
import { passthroughSuite } from '../../passthrough.ts';

passthroughSuite({
  runtime: 'node',
  async start(world, { developerMode }) {
    const gateway = await startGateway({
      config: { ...world.config, developerMode },
      hostname: '127.0.0.1',
      httpsPort: 0,
      httpPort: null,
      tls: { certFile: world.gatewayCert.certFile, keyFile: world.gatewayCert.keyFile },
    });
    return {
      port: gateway.ports.https!,
      stats: () => gateway.passthrough!,
      close: () => gateway.close(),
    };
  },
  more(context) {
    it('answers 421 over HTTP/2 when a connection made for another name asks for a private one (coalescing)', async () => {
      const { gateway } = context();
      const session = http2.connect(`https://127.0.0.1:${gateway.port}`, {
        servername: 'alice.localhost',
        rejectUnauthorized: false,
      });
      try {
        const answer = await new Promise<{ status: number; code: string }>((resolve, reject) => {
          const req = session.request({ ':authority': 'dora.localhost', ':path': '/' });
          req.on('response', (h) =>
            resolve({ status: Number(h[':status']), code: String(h['x-pc2-error']) }),
          );
          req.on('error', reject);
          req.end();
        });
        expect(answer).toEqual({ status: 421, code: 'PRIVATE_NAME' });
      } finally {
        session.close();
      }
    });
  },
});
