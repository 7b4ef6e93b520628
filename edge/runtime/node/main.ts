/**
 * Runs the Node.js gateway from the environment:
 *
 *   PC2_EDGE_ZONE=… PC2_EDGE_REGISTRAR_KEYS=… PC2_EDGE_KEY=… PC2_EDGE_SUPER_NODES=… \
 *   PC2_EDGE_TLS_CERT_FILE=… PC2_EDGE_TLS_KEY_FILE=… npx tsx edge/runtime/node/main.ts
 *
 * (or PC2_EDGE_CONFIG_FILE=edge.json). Without a certificate it serves plain HTTP on
 * PC2_EDGE_HTTP_PORT (default 8080), for development. SIGINT/SIGTERM close it.
 */
import { readFileSync } from 'node:fs';
import { ADAPTER_ENV_KEYS, edgeConfigFromEnv, edgeConfigFromJson } from '../../env-config.ts';
import { startGateway } from './server.ts';

function port(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${value}`);
  return n;
}

const env = process.env as Record<string, string | undefined>;
const file = env[ADAPTER_ENV_KEYS.configFile];
const config = file ? edgeConfigFromJson(readFileSync(file, 'utf8')) : edgeConfigFromEnv(env);
const certFile = env[ADAPTER_ENV_KEYS.certFile];
const keyFile = env[ADAPTER_ENV_KEYS.keyFile];
const tls = certFile && keyFile ? { certFile, keyFile } : undefined;
const gateway = await startGateway({
  config,
  hostname: env[ADAPTER_ENV_KEYS.hostname] || undefined,
  httpsPort: port(env[ADAPTER_ENV_KEYS.port], 443),
  httpPort: port(env[ADAPTER_ENV_KEYS.httpPort], tls ? 80 : 8080),
  tls,
});
console.log(
  `pc2 edge: ${tls ? `https on ${gateway.ports.https}, redirect on ${gateway.ports.http}` : `http on ${gateway.ports.http}`} for *.${config.zone}`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void gateway.close().then(() => process.exit(0)));
}
