/**
 * The super-node side of the relay benchmark, in its own process (as on a super node's machine):
 * the Active Proxy server and the relay ingress. Args: edgeKeyId superNodeId. Prints
 * `{"tunnelPort":N,"ingressPort":N,"servicePeer":"..."}` once listening. Over the IPC channel it
 * answers `{cmd:'memory'}` (after three GCs) with its memory usage and server stats,
 * `{cmd:'cpu'}` with process.cpuUsage(), `{cmd:'stats'}` with the server's stats(), and `{cmd:'closeIngress'}`; SIGTERM stops everything and exits (which writes a --cpu-prof profile).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startIngressServer } from '../origin/ingress/index.ts';
import { TunnelServer } from '../origin/tunnel/index.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const [edgeKeyId, superNodeId] = process.argv.slice(2);
const tunnel = new TunnelServer({
  key: KeyPair.generate(),
  host: '127.0.0.1',
  port: 0,
  maxConnections: 64,
});
await tunnel.start();
const ingress = await startIngressServer({
  tunnel,
  superNodeId: Id.parse(superNodeId),
  edgeKeys: [Id.parse(edgeKeyId)],
  host: '127.0.0.1',
  port: 0,
});
let ingressOpen = true;

const gc = (globalThis as { gc?: () => void }).gc;
async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  const { heapUsed, rss } = process.memoryUsage();
  const { sessions, connections } = tunnel.stats();
  return { heapUsed, rss, sessions, connections, gc: Boolean(gc) };
}

// Event-loop delay between two `loopDelay` questions (ms): how long this process stalled.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
function takeLoopDelay() {
  const result = {
    p50: loopDelay.percentile(50) / 1e6,
    p99: loopDelay.percentile(99) / 1e6,
    max: loopDelay.max / 1e6,
  };
  loopDelay.reset();
  return result;
}

process.on('message', async (message: { cmd: string }) => {
  if (message.cmd === 'memory') process.send!({ memory: await settledMemory() });
  else if (message.cmd === 'cpu') process.send!({ cpu: process.cpuUsage() });
  else if (message.cmd === 'stats') process.send!({ stats: tunnel.stats() });
  else if (message.cmd === 'loopDelay') process.send!({ loopDelay: takeLoopDelay() });
  else if (message.cmd === 'closeIngress') {
    if (ingressOpen) await ingress.close();
    ingressOpen = false;
    process.send!({ closed: true });
  }
});
process.on('SIGTERM', async () => {
  if (ingressOpen) await ingress.close();
  await tunnel.stop();
  process.exit(0);
});
process.stdout.write(
  JSON.stringify({
    tunnelPort: tunnel.address().port,
    ingressPort: ingress.address().port,
    servicePeer: tunnel.options.key.id.toString(),
  }) + '\n',
);
