/** One raw HTTP/1.1 exchange over TCP or TLS, for requests no client library sends (two Host headers). */
import net from 'node:net';
import tls from 'node:tls';

/** Writes `request` as is and resolves with everything read until the server closes (or 10 s). */
export function rawExchange(base: string, request: string, servername?: string): Promise<string> {
  const u = new URL(base);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const socket =
    u.protocol === 'https:'
      ? tls.connect({ host: u.hostname, port, servername, rejectUnauthorized: false })
      : net.connect(port, u.hostname);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, 10_000);
    socket.on(u.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (text) resolve(text);
      else reject(e);
    });
  });
}
