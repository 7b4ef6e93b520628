/**
 * The raw TLS channel of the relay ingress: an authenticated Upgrade (`Upgrade: pc2-tls/1`, node id
 * and edge token as for every relay request) whose connection becomes a raw TLS stream of the node's
 * tunnel (shared/tunnel/tls-streams.ts). The visitor's TLS runs from the browser to the node: after
 * the 101 this super node only copies ciphertext, and no HTTP parser of it sees a byte of it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Id } from '../../shared/id.ts';
import { TLS_CHANNEL_UPGRADE } from '../../shared/records/api.ts';
import type { TunnelServer } from '../tunnel/server.ts';
import { clientAddress } from './headers.ts';

export function isTlsChannel(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase() === TLS_CHANNEL_UPGRADE;
}

/** Opens the node's raw TLS stream and splices the edge's connection to it; throws TunnelError when it cannot be opened. */
export async function spliceTlsChannel(
  tunnel: TunnelServer,
  node: Id,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const stream = await tunnel.openStream(node, {
    remoteAddress: clientAddress(req),
    remotePort: req.socket.remotePort,
    tls: true,
  });
  if (socket.destroyed) return void stream.destroy();
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TLS_CHANNEL_UPGRADE}\r\n\r\n`,
  );
  if (head.length) stream.write(head);
  // Each side's end is passed on (TLS close_notify, then FIN); either failing closes both.
  stream.on('error', () => socket.destroy());
  socket.on('error', () => stream.destroy());
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
  stream.pipe(socket);
  socket.pipe(stream);
}
