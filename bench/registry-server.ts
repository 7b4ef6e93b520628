/**
 * One registry in its own process for the benchmark (so the load generator does not share its event
 * loop). Env: PC2_DATA_DIR, PC2_REGISTRAR_SEED (hex), PC2_TRUSTED (comma-separated ids),
 * PC2_JWS_BACKEND (libsodium | node:crypto). Prints
 * `listening <url>`; stdin lines: `peer <id> <url>` adds a replication peer, `stats` prints
 * `stats {cpuUs, writes, syncs}` (this process's CPU time so far), `stop` closes it.
 */
import { createInterface } from 'node:readline';
import { fromHex } from '../shared/bytes.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { startRegistryServer } from '../origin/registry/index.ts';
import { type JwsBackend, selectJwsBackend } from '../origin/registry/native-jws.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

selectJwsBackend((process.env.PC2_JWS_BACKEND ?? 'libsodium') as JwsBackend);

const key = KeyPair.fromSeed(fromHex(process.env.PC2_REGISTRAR_SEED ?? ''));
const trusted = (process.env.PC2_TRUSTED ?? '')
  .split(',')
  .filter(Boolean)
  .map((t) => Id.parse(t));
const server = await startRegistryServer({
  key,
  trustedRegistrars: trusted,
  dataDir: process.env.PC2_DATA_DIR ?? '',
  rateLimits: false,
  host: '127.0.0.1',
  port: 0,
  pushDelayMs: 1,
});
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, id, url] = line.split(' ');
  if (cmd === 'peer') server.registry.replication.addPeer({ id, url });
  if (cmd === 'stats') {
    const cpu = process.cpuUsage();
    const { store } = server.registry;
    process.stdout.write(
      `stats ${JSON.stringify({ cpuUs: cpu.user + cpu.system, userUs: cpu.user, writes: store.version, syncs: store.syncs })}\n`,
    );
  }
  if (cmd === 'stop') {
    process.stderr.write(
      `registry: ${server.registry.store.version} writes, ${server.registry.store.syncs} fdatasyncs\n`,
    );
    void server.close().then(() => process.exit(0));
  }
});
process.stdout.write(`listening ${server.url}\n`);
