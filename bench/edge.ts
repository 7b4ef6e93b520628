/**
 * `npm run bench:edge`: requests/s and latency through the Node gateway to a direct upstream,
 * against the upstream alone and against nginx as a plain reverse proxy, in one run (wrk as the
 * load generator); then the cost of a cached route resolution. Prints a Markdown table and writes
 * bench-out/edge.json.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNodeGateway } from '../edge/node.ts';
import { createWorld } from '../tests/edge/world.ts';
import { deadPort } from '../tests/edge/origins.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
/** Warm-up before each measurement: V8 needs a while to optimise the gateway's path on a busy machine. */
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BODY = { length: 1024 };
/** Which paths to measure (comma-separated: upstream, nginx, gateway, resolve), for profiling one alone. Default all. */
const PATHS = new Set((process.env.BENCH_PATHS ?? 'upstream,nginx,gateway,resolve').split(','));

/** CPU time (user + system, ms) a process and its children have used so far, from /proc. */
function processCpuMs(pid: number): number {
  let total = 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children file: no children counted
  }
  for (const child of children) total += processCpuMs(Number(child));
  return total;
}

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's error line (timeouts, non-2xx), if any. */
  errors?: string;
  /** CPU the measured server process(es) used per request, us: independent of how loaded the machine is. */
  cpuUsPerRequest?: number;
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(url: string, host: string, seconds: number): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, url], {
    timeout: (seconds + 30) * 1000,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
  const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
  const errors = stdout.split('\n').filter((l) => /Non-2xx|Socket errors/.test(l)).map((l) => l.trim()).join('; ');
  return { rps, p50Ms: ms(p50), p99Ms: ms(p99), ...(errors ? { errors } : {}) };
}

const SKIPPED: WrkResult = { rps: NaN, p50Ms: NaN, p99Ms: NaN };

/** `cpuMs` reads the CPU used so far by every process on the measured path except wrk. */
async function measure(url: string, host: string, cpuMs: () => number): Promise<WrkResult> {
  await wrk(url, host, WARMUP_S); // JIT, connection pools
  const before = cpuMs();
  const result = await wrk(url, host, DURATION_S);
  const used = cpuMs() - before;
  return { ...result, cpuUsPerRequest: (used * 1000) / (result.rps * DURATION_S) };
}

async function startNginx(upstreamPort: number): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const prefix = mkdtempSync(join(tmpdir(), 'pc2-bench-nginx-'));
  const port = await deadPort();
  writeFileSync(join(prefix, 'nginx.conf'), `
worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream node { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://node;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`);
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** The upstream in its own process, as a node's app would be, so it does not share the gateway's thread. */
async function startUpstream(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const code = `
    const http = require('node:http');
    const body = Buffer.alloc(${BODY.length}, 'x');
    const s = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body); });
    s.keepAliveTimeout = 30000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('upstream exited')));
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function cachedResolutionCost(resolve: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10_000; i++) await resolve();
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await resolve();
  return Number(process.hrtime.bigint() - start) / n;
}

async function main(): Promise<void> {
  const world = await createWorld();
  const upstream = await startUpstream();
  const upstreamPort = upstream.port;
  const records = world.a.records;
  // Point alice's direct route at the benchmark upstream.
  const { signRoute } = await import('../shared/records/route.ts');
  const now = Date.now();
  const alice = records.get('alice')!;
  records.set('alice', { ...alice, route: await signRoute({ name: 'alice', mode: 'direct', endpoint: `http://127.0.0.1:${upstreamPort}`, relays: [], seq: 9, iat: now, exp: now + 3_600_000 }, world.nodes.get('alice')!) });
  const gateway = await startNodeGateway({ config: world.config, hostname: '127.0.0.1', httpPort: 0 });
  const nginx = await startNginx(upstreamPort);
  try {
    const upstreamCpu = () => processCpuMs(upstream.pid);
    const direct = PATHS.has('upstream') ? await measure(`http://127.0.0.1:${upstreamPort}/`, 'alice.localhost', upstreamCpu) : SKIPPED;
    const viaNginx = PATHS.has('nginx') ? await measure(`http://127.0.0.1:${nginx.port}/`, 'alice.localhost', () => upstreamCpu() + processCpuMs(nginx.pid)) : SKIPPED;
    // The gateway runs in this process (the registry here is idle once the route is cached).
    const selfCpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const viaGateway = !PATHS.has('gateway') ? SKIPPED : await measure(`http://127.0.0.1:${gateway.ports.http}/`, 'alice.localhost', () => upstreamCpu() + selfCpu());
    const resolveNs = !PATHS.has('resolve') ? NaN : await cachedResolutionCost(() => gateway.edge.resolver.resolve('alice'));
    const planNs = !PATHS.has('resolve') ? NaN : await cachedResolutionCost(() =>
      gateway.edge.plan(new Request('http://alice.localhost/x', { headers: { accept: '*/*' } }), { clientIp: '127.0.0.1' }),
    );
    const result = {
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      connections: CONNECTIONS,
      bodyBytes: BODY.length,
      upstreamAlone: direct,
      nginx: viaNginx,
      gateway: viaGateway,
      gatewayShareOfNginxRps: viaGateway.rps / viaNginx.rps,
      gatewayAddedP99Ms: viaGateway.p99Ms - direct.p99Ms,
      nginxAddedP99Ms: viaNginx.p99Ms - direct.p99Ms,
      cachedResolveNs: resolveNs,
      cachedPlanNs: planNs,
      loadAverage: loadavg(),
    };
    const row = (name: string, r: WrkResult) =>
      `| ${name} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${Math.round(r.cpuUsPerRequest ?? NaN)} | ${r.errors ?? 'none'} |`;
    console.log(`wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s after ${WARMUP_S} s of warm-up, ${BODY.length}-byte responses, loopback; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| path | requests/s | p50 ms | p99 ms | server CPU us/request | wrk errors |\n|---|---|---|---|---|---|');
    console.log(row('upstream alone', direct));
    console.log(row('nginx (1 worker) -> upstream', viaNginx));
    console.log(row('Node gateway -> upstream', viaGateway));
    console.log(`\ngateway / nginx requests/s: ${(result.gatewayShareOfNginxRps * 100).toFixed(0)}%`);
    console.log(`p99 added over the upstream alone: gateway ${result.gatewayAddedP99Ms.toFixed(2)} ms, nginx ${result.nginxAddedP99Ms.toFixed(2)} ms`);
    console.log(`cached route resolution: ${(resolveNs / 1000).toFixed(2)} us; full cached plan (host, headers, route): ${(planNs / 1000).toFixed(2)} us`);
    mkdirSync('bench-out', { recursive: true });
    writeFileSync('bench-out/edge.json', JSON.stringify(result, null, 2));
  } finally {
    await nginx.stop();
    await gateway.close();
    await upstream.stop();
    await world.close();
  }
}

await main();
