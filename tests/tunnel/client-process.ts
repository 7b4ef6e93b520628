/**
 * A node agent's tunnel client in its own process, so a test can kill -9 or freeze it.
 * Args: serverPort servicePeerId deviceKey upstreamPort [pingIntervalMs].
 */
import { TunnelClient } from '../../agent/tunnel/index.ts';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { useNativeCrypto } from '../../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const [serverPort, servicePeer, deviceKey, upstreamPort, pingIntervalMs] = process.argv.slice(2);
const client = new TunnelClient({
  serverHost: '127.0.0.1',
  serverPort: Number(serverPort),
  servicePeerId: Id.parse(servicePeer),
  deviceKey: KeyPair.fromBosonPrivateKey(deviceKey),
  upstream: { host: '127.0.0.1', port: Number(upstreamPort) },
  ...(pingIntervalMs ? { pingIntervalMs: Number(pingIntervalMs) } : {}),
});
client.on('authenticated', () => process.stdout.write('authenticated\n'));
client.start();
