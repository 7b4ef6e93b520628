/**
 * The tunnel server of the memory measurements (bench/relay-memory.ts), in its own process. Prints
 * `{"tunnelPort":N,"servicePeer":"..."}` once listening. Over the IPC channel it answers
 * `{cmd:'memory'}` (after three GCs) with its memory usage and sessions, and `{cmd:'pool', count}`
 * by opening `count` streams at once to the one session there is (its node grows its pool to
 * carry them), measuring the time that took and the memory and CPU the connections cost, then
 * ending them. SIGTERM stops it.
 */
import { TunnelServer } from '../origin/tunnel/index.ts';
import { KeyPair } from '../shared/keys.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';
import type { TunnelStream } from '../origin/tunnel/stream.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const tunnel = new TunnelServer({ key: KeyPair.generate(), host: '127.0.0.1', port: 0 });
await tunnel.start();

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

async function pool(count: number) {
  const [session] = tunnel.sessions();
  const before = await settledMemory();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const streams: TunnelStream[] = await Promise.all(
    Array.from({ length: count }, () => tunnel.openStream(session.deviceId)),
  );
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const after = await settledMemory();
  for (const s of streams) s.end();
  return { ms, cpuMs: (used.user + used.system) / 1000, before, after };
}

process.on('message', async (message: { cmd: string; count?: number }) => {
  if (message.cmd === 'memory') process.send!({ memory: await settledMemory() });
  else if (message.cmd === 'pool') process.send!({ pool: await pool(message.count ?? 1000) });
});
process.on('SIGTERM', async () => {
  await tunnel.stop();
  process.exit(0);
});
process.stdout.write(
  JSON.stringify({
    tunnelPort: tunnel.address().port,
    servicePeer: tunnel.options.key.id.toString(),
  }) + '\n',
);
