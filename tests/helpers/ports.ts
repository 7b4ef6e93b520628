/** Test ports. */
import { createServer } from 'node:net';

/** A free TCP port below the ephemeral range, so port-0 listeners elsewhere cannot take it meanwhile. */
export async function reservePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
