/**
 * A TCP relay that records every byte it carries, both ways: put in front of a super node's API port,
 * it holds exactly what crossed that super node's sockets from the gateway (its ingress included).
 */
import net from 'node:net';

export interface Tap {
  port: number;
  url: string;
  /** Everything carried so far, both directions, in arrival order. */
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function startTap(targetPort: number, targetHost = '127.0.0.1'): Promise<Tap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, targetHost);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
      s.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    bytes: () => Buffer.concat(chunks),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
