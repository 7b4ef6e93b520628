/**
 * A request other than GET or HEAD with neither Content-Length nor Transfer-Encoding has no body
 * (RFC 9112, 6.3). The Node.js gateway passes it on without one on every path, the app's included
 * (an absolute-form target takes it): not as an empty chunked body, which some apps refuse (a
 * WebDAV MKCOL with a body is 415).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { createWorld, type World } from '../../world.ts';

let world: World;
let gateway: Gateway;

beforeAll(async () => {
  world = await createWorld();
  gateway = await startGateway({ config: world.config, hostname: '127.0.0.1', httpPort: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await world?.close();
});

/** One raw HTTP/1.1 exchange; resolves with the node's JSON echo of what it received. */
function raw(head: string): Promise<{ status: number; echo: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gateway.ports.http!, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const [top, body] = text.split('\r\n\r\n');
      resolve({ status: Number(top.split(' ')[1]), echo: JSON.parse(body) });
    });
  });
}

describe('the Node.js gateway and bodiless requests', () => {
  for (const [label, name, target] of [
    ['direct, origin-form (the fast path)', 'alice', '/dav/new-folder'],
    ['direct, absolute-form (the app)', 'alice', 'http://alice.localhost/dav/new-folder'],
    ['relayed, origin-form', 'bob', '/dav/new-folder'],
    ['relayed, absolute-form', 'bob', 'http://bob.localhost/dav/new-folder'],
  ] as const) {
    it(`passes MKCOL with no length on without a body: ${label}`, async () => {
      const got = await raw(
        `MKCOL ${target} HTTP/1.1\r\nHost: ${name}.localhost\r\nConnection: close\r\n\r\n`,
      );
      expect(got.status).toBe(200);
      expect(got.echo.method).toBe('MKCOL');
      expect(got.echo.url).toBe('/dav/new-folder');
      const headers = got.echo.headers as Record<string, string>;
      expect(headers['transfer-encoding']).toBeUndefined();
      expect(headers['content-length'] ?? '0').toBe('0');
    });
  }

  it('still passes a chunked body on as one', async () => {
    const got = await raw(
      'POST http://alice.localhost/x HTTP/1.1\r\nHost: alice.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    );
    expect(got.status).toBe(200);
    const headers = got.echo.headers as Record<string, string>;
    expect(headers['transfer-encoding'] ?? headers['content-length']).toBeDefined();
  });
});
