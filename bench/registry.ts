/**
 * `npm run bench:registry`: fsync'd log appends/s (one at a time vs group commit), signed
 * registrations/s and resolves/s on one registry over HTTP on loopback, and replication lag between
 * two registries. Requests are signed before the timed loops; the registries run in child processes.
 * A bare node:http server measured with the same client shows what the machine allows at that moment.
 * Resolves are driven by wrk (a C client, so the load generator leaves the registry its core) when it
 * is installed, else by undici. Env: BENCH_ONLY (log,crypto,node,baseline,lag), BENCH_REGISTRATIONS,
 * BENCH_RESOLVES (undici), BENCH_RESOLVE_S (wrk, after a warm-up of half that), BENCH_LAG_SAMPLES,
 * BENCH_JWS_BACKEND (libsodium | node:crypto).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { toHex } from '../shared/bytes.ts';
import { KeyPair } from '../shared/keys.ts';
import { registryOpPaths, registryPaths } from '../shared/records/api.ts';
import { REQUEST_TYP, signRequest, verifyRequest } from '../shared/records/request.ts';
import { BINDING_TYP, signBinding } from '../shared/records/binding.ts';
import {
  type JwsBackend,
  selectJwsBackend,
  signJwsNative,
  verifyJwsNative,
} from '../origin/registry/native-jws.ts';
import { AppendLog } from '../origin/registry/append-log.ts';
import { hasWrk, runWrk } from './wrk.ts';
import { useNativeCrypto } from '../cli/native-crypto.ts';

// As in every process pc2 starts (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();

const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS ?? 20_000);
const RESOLVES = Number(process.env.BENCH_RESOLVES ?? 200_000);
const RESOLVE_S = Number(process.env.BENCH_RESOLVE_S ?? 10);
const WRK = hasWrk();
/** The registries' Ed25519 implementation (origin/registry/native-jws.ts). */
const JWS_BACKEND = (process.env.BENCH_JWS_BACKEND ?? 'libsodium') as JwsBackend;
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 300);
/** undici never pipelines a POST, so registrations get one connection per concurrent request. */
const WRITE_CONNECTIONS = Number(process.env.BENCH_WRITE_CONNECTIONS ?? 128);
/** Resolves: keep-alive connections, each with HTTP/1.1 pipelining (keeps the load generator cheap). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 8);
/** Threadpool of the registry processes: WebCrypto jobs and fdatasync share it. */
const THREADPOOL = process.env.BENCH_UV_THREADPOOL_SIZE ?? '16';
const ONLY = process.env.BENCH_ONLY ?? 'log,crypto,node,baseline,lag';
const SERVER = fileURLToPath(new URL('./registry-server.ts', import.meta.url));
const BASELINE_SERVER = fileURLToPath(new URL('./http-baseline-server.ts', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pc2-bench-registry-'));
  dirs.push(d);
  return d;
}

interface ServerProcess {
  child: ChildProcess;
  url: string;
  stats(): Promise<{ cpuUs: number; userUs: number; writes: number; syncs: number }>;
}

async function startServer(
  key: KeyPair,
  trusted: KeyPair[],
  script = SERVER,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      PC2_JWS_BACKEND: JWS_BACKEND,
      UV_THREADPOOL_SIZE: THREADPOOL,
      PC2_DATA_DIR: tempDir(),
      PC2_REGISTRAR_SEED: toHex(key.seed),
      PC2_TRUSTED: trusted.map((k) => k.id.toString()).join(','),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const url = (await next()).split(' ')[1];
  return {
    child,
    url,
    async stats() {
      const line = next();
      child.stdin!.write('stats\n');
      return JSON.parse((await line).slice('stats '.length)) as {
        cpuUs: number;
        userUs: number;
        writes: number;
        syncs: number;
      };
    },
  };
}

const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function benchLog(): Promise<Record<string, number>> {
  const payload = Buffer.alloc(700, 'x'); // about one claim record
  const { log } = AppendLog.open(join(tempDir(), 'bench.log'));
  let t = performance.now();
  const sequentialN = 500;
  for (let i = 0; i < sequentialN; i++) await log.append(payload);
  const sequential = rate(sequentialN, performance.now() - t);
  const syncsBefore = log.syncs;
  const groupN = 20_000;
  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < groupN) {
        next++;
        await log.append(payload);
      }
    }),
  );
  const grouped = rate(groupN, performance.now() - t);
  const perSync = groupN / (log.syncs - syncsBefore);
  await log.close();
  return {
    sequentialAppendsPerSec: sequential,
    groupCommitAppendsPerSec: grouped,
    appendsPerFsync: Math.round(perSync * 10) / 10,
  };
}

/** What a claim costs in signatures alone (verify the request, sign the binding), via jose/WebCrypto and via node:crypto. */
async function benchCrypto(): Promise<Record<string, number>> {
  const registrar = KeyPair.generate();
  const node = KeyPair.generate();
  const n = 10_000;
  const requests = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      signRequest({ op: 'claim', name: `c-${i}`, seq: 1, iat: 1 }, node),
    ),
  );
  await verifyRequest(requests[0]); // warm the key caches
  await signBinding({ name: 'c-0', owner: node.id.toString(), boundAt: 1 }, registrar);
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const i = next++;
        await verifyRequest(requests[i]);
        await signBinding({ name: `c-${i}`, owner: node.id.toString(), boundAt: 1 }, registrar);
      }
    }),
  );
  const jose = rate(n, performance.now() - t);
  const native: Record<string, number> = {};
  for (const backend of ['libsodium', 'node:crypto'] as const) {
    selectJwsBackend(backend);
    const t2 = performance.now();
    next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < n) {
          const i = next++;
          await verifyJwsNative(requests[i], REQUEST_TYP);
          await signJwsNative(
            {
              v: 1,
              name: `c-${i}`,
              owner: node.id.toString(),
              boundAt: 1,
              registrar: registrar.id.toString(),
            },
            registrar,
            BINDING_TYP,
          );
        }
      }),
    );
    native[backend === 'libsodium' ? 'claimCryptoLibsodiumPerSec' : 'claimCryptoNodeCryptoPerSec'] =
      rate(n, performance.now() - t2);
  }
  selectJwsBackend(JWS_BACKEND);
  return { claimCryptoJosePerSec: jose, ...native, ...signatureMicros() };
}

/** One Ed25519 sign and verify on the calling thread, µs each: libsodium against OpenSSL (node:crypto). */
function signatureMicros(): Record<string, number> {
  const sodium = createRequire(import.meta.url)('sodium-native') as {
    crypto_sign_keypair(pk: Buffer, sk: Buffer): void;
    crypto_sign_detached(sig: Buffer, m: Buffer, sk: Buffer): void;
    crypto_sign_verify_detached(sig: Buffer, m: Buffer, pk: Buffer): boolean;
  };
  const pk = Buffer.alloc(32);
  const sk = Buffer.alloc(64);
  sodium.crypto_sign_keypair(pk, sk);
  const keys = generateKeyPairSync('ed25519');
  const message = Buffer.alloc(400, 1);
  const signature = Buffer.alloc(64);
  const n = 5_000;
  const time = (op: () => unknown): number => {
    for (let i = 0; i < 500; i++) op();
    const t = performance.now();
    for (let i = 0; i < n; i++) op();
    return Math.round(((performance.now() - t) * 10_000) / n) / 10;
  };
  sodium.crypto_sign_detached(signature, message, sk);
  const opensslSignature = cryptoSign(null, message, keys.privateKey);
  return {
    signUsLibsodium: time(() => sodium.crypto_sign_detached(signature, message, sk)),
    verifyUsLibsodium: time(() => sodium.crypto_sign_verify_detached(signature, message, pk)),
    signUsNodeCrypto: time(() => cryptoSign(null, message, keys.privateKey)),
    verifyUsNodeCrypto: time(() => cryptoVerify(null, message, keys.publicKey, opensslSignature)),
  };
}

async function runConcurrent(
  total: number,
  concurrency: number,
  one: (i: number) => Promise<boolean>,
): Promise<{ ms: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        if (!(await one(i))) failed++;
      }
    }),
  );
  return { ms: performance.now() - t, failed };
}

async function benchSingleNode(): Promise<Record<string, number | string>> {
  const registrar = KeyPair.generate();
  const server = await startServer(registrar, [registrar]);
  const { url } = server;
  const keys = Array.from({ length: 100 }, () => KeyPair.generate());
  const now = Date.now();
  const bodies = await Promise.all(
    Array.from({ length: REGISTRATIONS }, async (_, i) =>
      JSON.stringify({
        request: await signRequest(
          { op: 'claim', name: `bench-${i}`, seq: 1, iat: now },
          keys[i % keys.length],
        ),
      }),
    ),
  );
  const writePool = new Pool(url, { connections: WRITE_CONNECTIONS });
  const before = await server.stats();
  const headers = { 'content-type': 'application/json' };
  const claims = await runConcurrent(REGISTRATIONS, WRITE_CONNECTIONS, async (i) => {
    const res = await writePool.request({
      path: registryOpPaths.claim(`bench-${i}`),
      method: 'POST',
      headers,
      body: bodies[i],
    });
    await res.body.dump();
    return res.statusCode === 201;
  });
  const afterClaims = await server.stats();
  await writePool.destroy();
  const resolves = await resolveLoad(
    url,
    Array.from({ length: REGISTRATIONS }, (_, i) => registryPaths.resolve(`bench-${i}`)),
    async () => {
      const stats = await server.stats();
      return stats.cpuUs;
    },
  );
  return {
    jwsBackend: JWS_BACKEND,
    serverCpuUsPerRegistration: Math.round((afterClaims.cpuUs - before.cpuUs) / REGISTRATIONS),
    serverUserCpuUsPerRegistration: Math.round(
      (afterClaims.userUs - before.userUs) / REGISTRATIONS,
    ),
    registrationsPerFsync:
      Math.round(((afterClaims.writes - before.writes) / (afterClaims.syncs - before.syncs)) * 10) /
      10,
    registrations: REGISTRATIONS,
    registrationsPerSec: rate(REGISTRATIONS, claims.ms),
    registrationFailures: claims.failed,
    ...prefixed('resolve', resolves),
  };
}

function prefixed(
  prefix: string,
  values: Record<string, number | string>,
): Record<string, number | string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [prefix + k[0].toUpperCase() + k.slice(1), v]),
  );
}

/**
 * GETs of `paths` (cycled) against `url`: wrk for RESOLVE_S seconds after a warm-up when installed,
 * else RESOLVES requests from undici. `cpuUs` reads the server's CPU time so far.
 */
async function resolveLoad(
  url: string,
  paths: string[],
  cpuUs: () => Promise<number>,
): Promise<Record<string, number | string>> {
  if (WRK) {
    const o = { url, paths, connections: CONNECTIONS * 2, seconds: RESOLVE_S };
    await runWrk({ ...o, seconds: Math.max(1, Math.round(RESOLVE_S / 2)) });
    const before = await cpuUs();
    const r = await runWrk(o);
    const cpu = (await cpuUs()) - before;
    return {
      client: `wrk -t1 -c${o.connections}`,
      perSec: Math.round(r.rps),
      count: r.requests,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      serverCpuUs: Math.round((cpu / r.requests) * 10) / 10,
      errors: r.errors ?? 'none',
    };
  }
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: PIPELINING });
  const before = await cpuUs();
  const run = await runConcurrent(RESOLVES, CONNECTIONS * PIPELINING, async (i) => {
    const res = await pool.request({ path: paths[i % paths.length], method: 'GET' });
    await res.body.dump();
    return res.statusCode === 200;
  });
  const cpu = (await cpuUs()) - before;
  await pool.destroy();
  return {
    client: `undici ${CONNECTIONS}x${PIPELINING} pipelined`,
    perSec: rate(RESOLVES, run.ms),
    count: RESOLVES,
    serverCpuUs: Math.round((cpu / RESOLVES) * 10) / 10,
    errors: run.failed ? `${run.failed} failed` : 'none',
  };
}

async function benchBaseline(): Promise<Record<string, number | string>> {
  const server = await startServer(KeyPair.generate(), [], BASELINE_SERVER);
  return prefixed(
    'bareNodeHttp',
    await resolveLoad(server.url, ['/'], async () => (await server.stats()).cpuUs),
  );
}

async function benchLag(): Promise<Record<string, number>> {
  const ka = KeyPair.generate();
  const kb = KeyPair.generate();
  const a = await startServer(ka, [ka, kb]);
  const b = await startServer(kb, [ka, kb]);
  a.child.stdin!.write(`peer ${kb.id} ${b.url}\n`);
  b.child.stdin!.write(`peer ${ka.id} ${a.url}\n`);
  const key = KeyPair.generate();
  const poolA = new Pool(a.url, { connections: 2 });
  const poolB = new Pool(b.url, { connections: 2 });
  const lags: number[] = [];
  for (let i = 0; i < LAG_SAMPLES; i++) {
    const name = `lag-${i}`;
    const body = JSON.stringify({
      request: await signRequest({ op: 'claim', name, seq: 1, iat: Date.now() }, key),
    });
    const res = await poolA.request({
      path: registryOpPaths.claim(name),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.dump();
    const acked = performance.now();
    for (let tries = 0; tries < 5_000; tries++) {
      const r = await poolB.request({ path: registryPaths.resolve(name), method: 'GET' });
      await r.body.dump();
      if (r.statusCode === 200) {
        lags.push(performance.now() - acked);
        break;
      }
    }
  }
  await poolA.destroy();
  await poolB.destroy();
  lags.sort((x, y) => x - y);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    lagSamples: lags.length,
    lagP50Ms: round(pct(lags, 50)),
    lagP99Ms: round(pct(lags, 99)),
    lagMaxMs: round(lags.at(-1) ?? NaN),
  };
}

try {
  const parts = ONLY.split(',');
  const results = {
    writeConnections: WRITE_CONNECTIONS,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    ...(parts.includes('log') ? await benchLog() : {}),
    ...(parts.includes('crypto') ? await benchCrypto() : {}),
    ...(parts.includes('node') ? await benchSingleNode() : {}),
    ...(parts.includes('baseline') ? await benchBaseline() : {}),
    ...(parts.includes('lag') ? await benchLag() : {}),
  };
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(26)} ${v}`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
