/**
 * The node side of bench:passthrough, in its own process: the app stand-in, the agent's TLS
 * terminator for a direct private node (dora) and for a relayed one (rita, whose tunnel client hands
 * it raw TLS streams), and a public relayed node (bob, plain tunnel streams). Options as JSON in
 * PC2_BENCH_NODE: {serverPort, servicePeer, rita, bob (private keys), cert, key}. Prints
 * `{"appPort":N,"doraPort":N,"ritaPort":N}` once both tunnels are up.
 */
import { TlsTerminator } from '../agent/tls/terminator.ts';
import { TunnelClient } from '../agent/tunnel/index.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { startHttpUpstream } from '../tests/tunnel/http-upstream.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const o = JSON.parse(process.env.PC2_BENCH_NODE ?? '{}');
const app = await startHttpUpstream();
const upstream = { host: '127.0.0.1', port: app.port };
const pair = { chain: o.cert, key: o.key };
const dora = new TlsTerminator(upstream);
const rita = new TlsTerminator(upstream);
const doraPort = (await dora.listen('127.0.0.1', 0, pair)).port;
const ritaPort = (await rita.listen('127.0.0.1', 0, pair)).port;
const tunnel = (key: string, tls: boolean) =>
  new TunnelClient({
    serverHost: '127.0.0.1',
    serverPort: o.serverPort,
    servicePeerId: Id.parse(o.servicePeer),
    deviceKey: KeyPair.fromBosonPrivateKey(key),
    upstream,
    ...(tls ? { tlsUpstream: { host: '127.0.0.1', port: ritaPort }, tlsOnly: true } : {}),
  });
const clients = [tunnel(o.rita, true), tunnel(o.bob, false)];
await Promise.all(
  clients.map(
    (c) =>
      new Promise((resolve) => {
        c.once('authenticated', resolve);
        c.start();
      }),
  ),
);
process.stdout.write(JSON.stringify({ appPort: app.port, doraPort, ritaPort }) + '\n');
process.on('SIGTERM', async () => {
  for (const c of clients) c.stop();
  await Promise.all([dora.close(), rita.close(), app.close()]);
  process.exit(0);
});
