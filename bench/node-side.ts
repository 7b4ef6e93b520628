/**
 * The node side of the relay benchmark, in its own process (as on a real node's machine): the PC2
 * app stand-in and the Active Proxy client. Args: serverPort servicePeerId deviceKey [stock]
 * (`stock`: no large-frame offer, as a stock client). Prints
 * `{"appPort":N,"crypto":"..."}` once the session is up.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TunnelClient } from '../agent/tunnel/index.ts';
import { secretboxBackend } from '../shared/crypto/secretbox.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { startHttpUpstream } from '../tests/tunnel/http-upstream.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const [serverPort, servicePeer, deviceKey, frames] = process.argv.slice(2);
const app = await startHttpUpstream();
const client = new TunnelClient({
  serverHost: '127.0.0.1',
  serverPort: Number(serverPort),
  servicePeerId: Id.parse(servicePeer),
  deviceKey: KeyPair.fromBosonPrivateKey(deviceKey),
  upstream: { host: '127.0.0.1', port: app.port },
  largeFrames: frames !== 'stock',
});
client.once('authenticated', () =>
  process.stdout.write(
    JSON.stringify({ appPort: app.port, crypto: secretboxBackend().name }) + '\n',
  ),
);
client.start();
// The benchmark reads this process's CPU time around each measurement.
// Event-loop delay between two `loopDelay` questions (ms): how long this process stalled.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'cpu') process.send!({ cpu: process.cpuUsage() });
  if (message.cmd === 'loopDelay') {
    process.send!({
      loopDelay: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    });
    loopDelay.reset();
  }
});
process.on('SIGTERM', async () => {
  await client.stop();
  await app.close();
  process.exit(0);
});
