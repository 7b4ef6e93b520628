/**
 * Opens N idle Active Proxy sessions (one client, one connection each) for the memory figure of the
 * relay benchmark. Args: serverPort servicePeerId count upstreamPort. Prints `ready N` when all are
 * authenticated. The clients keep their default 60 s pings, as idle nodes do.
 */
import { TunnelClient } from '../agent/tunnel/index.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const [serverPort, servicePeer, countText, upstreamPort] = process.argv.slice(2);
const count = Number(countText);
const clients: TunnelClient[] = [];
let ready = 0;
const batch = 200;
for (let i = 0; i < count; i += batch) {
  await Promise.all(
    Array.from({ length: Math.min(batch, count - i) }, () => {
      const client = new TunnelClient({
        serverHost: '127.0.0.1',
        serverPort: Number(serverPort),
        servicePeerId: Id.parse(servicePeer),
        deviceKey: KeyPair.generate(),
        upstream: { host: '127.0.0.1', port: Number(upstreamPort) },
      });
      clients.push(client);
      return new Promise<void>((resolve) => {
        client.once('authenticated', () => {
          ready++;
          resolve();
        });
        client.start();
      });
    }),
  );
}
process.stdout.write(`ready ${ready}\n`);
process.on('SIGTERM', () => process.exit(0));
