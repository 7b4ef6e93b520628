/** The processes bench:edge measures (upstream, nginx, the Node.js gateway) and the CPU they use, from /proc. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeConfig } from '../edge/config.ts';
import { deadPort } from '../tests/edge/origins.ts';

/** CPU time used so far, ms, split into user and kernel (system) time. */
export interface Cpu {
  user: number;
  system: number;
}

/** /proc/<pid>/stat fields after the command name; utime and stime are at 11 and 12 (1/100 s). */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU a process and its children (recursively, while they live) have used so far. */
export function processCpu(pid: number): Cpu {
  const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const cpu = { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    // no children file: no children counted
  }
  for (const child of children) {
    const c = processCpu(Number(child));
    cpu.user += c.user;
    cpu.system += c.system;
  }
  return cpu;
}

export function sumCpu(...parts: Cpu[]): Cpu {
  return {
    user: parts.reduce((s, c) => s + c.user, 0),
    system: parts.reduce((s, c) => s + c.system, 0),
  };
}

export interface Running {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function waitForHttp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(true);
        })
        .on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers on port ${port}`);
}

/** nginx from Debian, installed the first time a bench needs it (the machine's root runs benches). */
function nginxPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx']);
  if (found.status === 0) return found.stdout.toString().trim().split('\n')[0];
  console.error('nginx is missing: installing the Debian package (apt-get install nginx)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { stdio: 'inherit' as const, env };
  spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], opts);
  const installed = spawnSync(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'nginx'],
    opts,
  );
  if (installed.status !== 0) throw new Error('nginx is missing and apt-get could not install it');
  return '/usr/sbin/nginx';
}

export async function startNginx(
  upstreamPort: number,
  workers: number,
  workerConnections = 1024,
): Promise<Running> {
  const nginx = nginxPath();
  const prefix = mkdtempSync(join(tmpdir(), 'pc2-bench-nginx-'));
  const port = await deadPort();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `
worker_processes ${workers};
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections ${workerConnections}; }
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
      # Streamed as the gateway and the relay stream (no temporary files for large bodies).
      proxy_buffering off;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`,
  );
  const child = spawn(
    nginx,
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: 'ignore' },
  );
  await waitForHttp(port);
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

/** Starts `node <args>` whose first line on stdout is its port. */
export async function startPortPrinter(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Running> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code})`)));
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

/** The upstream in its own process, as a node's app would be. */
export function startUpstream(bodyBytes: number): Promise<Running> {
  const code = `
    const http = require('node:http');
    const body = Buffer.alloc(${bodyBytes}, 'x');
    const s = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body); });
    s.keepAliveTimeout = 30000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
    process.on('SIGTERM', () => process.exit(0));`;
  return startPortPrinter(['-e', code]);
}

/** Gateway options bench:edge varies (startGateway's, as JSON). */
export interface BenchGatewayOptions {
  tls?: { certFile: string; keyFile: string };
  http2?: boolean;
  privateNames?: boolean;
  /** As `pc2 gateway --metrics` runs it. */
  metrics?: boolean;
}

/** The Node.js gateway in its own process (and its workers', with `workers` > 1). */
export function startGateway(
  config: EdgeConfig,
  workers: number,
  options: BenchGatewayOptions = {},
): Promise<Running> {
  const entry = new URL('./edge-gateway.ts', import.meta.url).pathname;
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway process only, e.g. --cpu-prof.
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startPortPrinter([...extra, '--import', 'tsx', entry], {
    ...process.env,
    PC2_BENCH_GATEWAY: JSON.stringify({ config, workers, ...options }),
  });
}
