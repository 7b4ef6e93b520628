/**
 * The node's own TLS terminator (a private name): a TLS server with the node's certificate for
 * `<name>.<zone>` whose decrypted connections are piped, bytes as they are, to the node's upstream.
 * Visitors' TLS ends here, on the node: relayed streams reach it through the tunnel (raw TLS
 * streams), direct ones on its public port. The certificate is swapped for new handshakes without a
 * restart; open connections keep theirs.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { CertificatePair } from '../../shared/acme-order.ts';

export type { CertificatePair };

export interface TerminatorStats {
  /** TLS connections accepted and piped to the upstream. */
  connections: number;
  /** Handshakes that failed (wrong name, protocol, a client that went away). */
  handshakeFailures: number;
}

/** Longest wait for a client's handshake, ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class TlsTerminator {
  readonly #upstream: () => { host: string; port: number };
  #server: tls.Server | null = null;
  readonly #open = new Set<net.Socket>();
  readonly stats: TerminatorStats = { connections: 0, handshakeFailures: 0 };

  /** `upstream`: where decrypted connections go, or a function asked at each connection. */
  constructor(upstream: { host: string; port: number } | (() => { host: string; port: number })) {
    this.#upstream = typeof upstream === 'function' ? upstream : () => upstream;
  }

  /** Listens with `pair`; resolves with the bound address. */
  listen(host: string, port: number, pair: CertificatePair): Promise<net.AddressInfo> {
    const server = tls.createServer({
      ...secureOptions(pair),
      // The upstream speaks HTTP/1.1; a client offering h2 as well gets http/1.1.
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // Small answers go out at once (with Nagle, a reply split in two waited for a delayed ACK).
      noDelay: true,
    });
    server.on('secureConnection', (socket) => this.#pipe(socket));
    server.on('tlsClientError', (_e, socket) => {
      this.stats.handshakeFailures++;
      socket.destroy();
    });
    server.on('connection', (socket: net.Socket) => {
      this.#open.add(socket);
      socket.once('close', () => this.#open.delete(socket));
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** Installs a new pair for new handshakes (throws, keeping the old one, when it does not load). */
  setCertificate(pair: CertificatePair): void {
    this.#server?.setSecureContext(secureOptions(pair));
  }

  address(): net.AddressInfo | null {
    return (this.#server?.address() as net.AddressInfo | null) ?? null;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#open) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #pipe(socket: tls.TLSSocket): void {
    this.stats.connections++;
    const upstream = net.connect({ ...this.#upstream(), noDelay: true, allowHalfOpen: true });
    this.#open.add(upstream);
    const close = () => {
      socket.destroy();
      upstream.destroy();
      this.#open.delete(upstream);
    };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    socket.pipe(upstream);
    upstream.pipe(socket);
  }
}

function secureOptions(pair: CertificatePair): tls.SecureContextOptions {
  // TLS 1.3 only, as at the gateway.
  return { cert: pair.chain, key: pair.key, minVersion: 'TLSv1.3' };
}
