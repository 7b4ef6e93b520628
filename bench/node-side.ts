/**
 * The node side of the relay benchmark, in its own process (as on a real node's machine): the PC2
 * app stand-in and the Active Proxy client. Args: serverPort servicePeerId deviceKey. Prints
 * `{"appPort":N}` once the session is up.
 */
import { ActiveProxyClient } from '../agent/proxy/index.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { startHttpUpstream } from '../tests/proxy/http-upstream.ts';

const [serverPort, servicePeer, deviceKey] = process.argv.slice(2);
const app = await startHttpUpstream();
const client = new ActiveProxyClient({
  serverHost: '127.0.0.1',
  serverPort: Number(serverPort),
  servicePeerId: Id.parse(servicePeer),
  deviceKey: KeyPair.fromBosonPrivateKey(deviceKey),
  upstream: { host: '127.0.0.1', port: app.port },
});
client.once('authenticated', () => process.stdout.write(JSON.stringify({ appPort: app.port }) + '\n'));
client.start();
process.on('SIGTERM', async () => {
  await client.stop();
  await app.close();
  process.exit(0);
});
