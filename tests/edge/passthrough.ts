/**
 * The passthrough suite, run against the Node.js and the Deno gateways: a connection whose SNI names
 * a private node is spliced untouched to its TLS port (direct) or through the relay's real ingress and
 * tunnel (relayed): the client's handshake verifies against the node's certificate alone, and the
 * ingress parses no HTTP of it. Every other name is terminated by the gateway, and a private name
 * asked over another name's connection gets 421.
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateWorld, MARKER, type PrivateWorld } from './private-world.ts';

export interface PassthroughGateway {
  port: number;
  stats(): { passedThrough: number; terminated: number; failed: number };
  close(): Promise<void>;
}

export interface PassthroughSuiteOptions {
  runtime: string;
  start(world: PrivateWorld, options: { developerMode: boolean }): Promise<PassthroughGateway>;
  /** Extra checks with the running gateway (e.g. an HTTP/2 client where the runtime has one). */
  more?(context: () => { world: PrivateWorld; gateway: PassthroughGateway }): void;
}

/** One HTTP/1.1 request over TLS, the handshake verified against `ca` only. */
export function fetchOver(
  port: number,
  servername: string | undefined,
  host: string,
  ca: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port,
        servername,
        ca,
        ALPNProtocols: ['http/1.1'],
        // Both certificates name *.localhost: which one verified against `ca` is the point.
        checkServerIdentity: () => undefined,
      },
      () => {
        socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
        let body = '';
        socket.on('data', (d) => (body += d.toString()));
        socket.on('end', () => resolve(body));
      },
    );
    socket.on('error', reject);
  });
}

export function passthroughSuite(options: PassthroughSuiteOptions): void {
  describe(`TLS passthrough by SNI (${options.runtime})`, () => {
    let world: PrivateWorld;
    let gateway: PassthroughGateway;
    let strict: PassthroughGateway;

    beforeAll(async () => {
      world = await createPrivateWorld();
      gateway = await options.start(world, { developerMode: true });
      strict = await options.start(world, { developerMode: false });
    }, 60_000);

    afterAll(async () => {
      await gateway?.close();
      await strict?.close();
      await world?.close();
    }, 30_000);

    it('splices a direct private node: the handshake verifies against the node certificate, and its reply comes back', async () => {
      const before = gateway.stats();
      const body = await fetchOver(
        gateway.port,
        'dora.localhost',
        'dora.localhost',
        world.nodeCert,
      );
      expect(body).toContain(MARKER);
      await expect(
        fetchOver(gateway.port, 'dora.localhost', 'dora.localhost', world.gatewayCert.cert),
      ).rejects.toThrow();
      expect(gateway.stats().passedThrough).toBe(before.passedThrough + 2);
      expect(gateway.stats().terminated).toBe(before.terminated);
    });

    it('splices a relayed private node through the ingress raw TLS channel and the tunnel; the ingress parses none of it', async () => {
      const before = world.ingress.stats();
      const body = await fetchOver(
        gateway.port,
        'rita.localhost',
        'rita.localhost',
        world.nodeCert,
      );
      expect(body).toContain(MARKER);
      const after = world.ingress.stats();
      expect(after.tlsChannels).toBe(before.tlsChannels + 1);
      expect(after.requests).toBe(before.requests);
    });

    it('terminates every other connection itself: a public name, no SNI, an unknown name', async () => {
      const before = gateway.stats();
      const ca = world.gatewayCert.cert;
      expect(await fetchOver(gateway.port, 'alice.localhost', 'alice.localhost', ca)).toMatch(
        /^HTTP\/1\.1 200 /,
      );
      expect(await fetchOver(gateway.port, undefined, 'alice.localhost', ca)).toMatch(
        /^HTTP\/1\.1 200 /,
      );
      expect(await fetchOver(gateway.port, 'ghost.localhost', 'ghost.localhost', ca)).toMatch(
        /^HTTP\/1\.1 404 /,
      );
      expect(gateway.stats().terminated).toBe(before.terminated + 3);
    });

    it('answers 421 to a private name asked over another name connection', async () => {
      const body = await fetchOver(
        gateway.port,
        'alice.localhost',
        'rita.localhost',
        world.gatewayCert.cert,
      );
      expect(body).toMatch(/^HTTP\/1\.1 421 /);
      expect(body).toMatch(/x-pc2-error: PRIVATE_NAME/i);
      expect(body).not.toContain(MARKER);
    });

    it('does not splice to a private address unless allowed: the connection is closed', async () => {
      const before = strict.stats();
      await expect(
        fetchOver(strict.port, 'dora.localhost', 'dora.localhost', world.nodeCert),
      ).rejects.toThrow();
      expect(strict.stats().failed).toBe(before.failed + 1);
      // A relayed private node goes through its super node, whatever the address rule.
      const body = await fetchOver(strict.port, 'rita.localhost', 'rita.localhost', world.nodeCert);
      expect(body).toContain(MARKER);
    });

    options.more?.(() => ({ world, gateway }));
  });
}
