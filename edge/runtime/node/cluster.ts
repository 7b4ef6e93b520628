/**
 * The Node gateway on several cores: N worker processes (node:cluster), each a full gateway
 * (startGateway) on the same ports. The primary only owns the listening sockets and hands
 * connections to the workers round-robin; it serves no request itself. Each worker watches the
 * certificate files on its own, so a certificate swapped on disk reaches every worker without a
 * restart. A worker that dies is replaced on the same ports.
 */
import cluster, { type Worker } from 'node:cluster';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EdgeConfig } from '../../config.ts';
import { EdgeError } from '../../errors.ts';
import type { GatewayOptions } from './server.ts';

/** What a worker is started with: everything of GatewayOptions that can cross a process boundary. */
export type ClusterWorkerOptions = Omit<GatewayOptions, 'config' | 'onError' | 'onCertificateReload'> & {
  config: Omit<EdgeConfig, 'fetch' | 'now'>;
};

export interface GatewayClusterOptions extends ClusterWorkerOptions {
  /** Worker processes, each one gateway on the shared ports. At least 1. */
  workers: number;
  /** Told about worker errors (failed certificate reloads, a worker that died and was replaced). Default console.error. */
  onError?: (error: Error) => void;
  /** Longest wait for a worker to be listening, ms. Default 30 000. */
  startTimeoutMs?: number;
}

export interface GatewayCluster {
  ports: { https?: number; http?: number };
  /** Process ids of the live workers. */
  readonly pids: number[];
  /** Certificate reloads applied by every live worker (the smallest count among them). */
  readonly certificateReloads: number;
  /** Workers that died and were replaced since start. */
  readonly restarts: number;
  close(): Promise<void>;
}

/** Primary -> worker. */
export interface WorkerStart {
  pc2: 'start';
  options: ClusterWorkerOptions;
}

/** Worker -> primary. */
export type WorkerMessage =
  | { pc2: 'waiting' }
  | { pc2: 'ready'; ports: { https?: number; http?: number } }
  | { pc2: 'failed'; message: string }
  | { pc2: 'reloaded' }
  | { pc2: 'error'; message: string };

const KNOWN = new Set(['config', 'hostname', 'httpsPort', 'httpPort', 'tls', 'hstsMaxAgeS', 'pool', 'upgradeTimeoutMs', 'workers', 'onError', 'startTimeoutMs']);

/** The worker runs the same TypeScript sources: under tsx's loader, whether or not this process has it. */
function workerExecArgv(): string[] {
  if (process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [...process.execArgv, '--import', loader];
}

export async function startGatewayCluster(options: GatewayClusterOptions): Promise<GatewayCluster> {
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new EdgeError('INVALID_CONFIG', `startGatewayCluster: unknown option(s) ${unknown.join(', ')}`);
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new EdgeError('INVALID_CONFIG', 'workers is an integer >= 1');
  if ('fetch' in options.config || 'now' in options.config) {
    throw new EdgeError('INVALID_CONFIG', 'config.fetch and config.now cannot be given to gateway workers (they run in other processes)');
  }
  if (!cluster.isPrimary) throw new EdgeError('INVALID_CONFIG', 'startGatewayCluster runs in a cluster primary only');
  const { workers: count, onError: onErrorOption, startTimeoutMs = 30_000, ...gatewayOptions } = options;
  const onError = onErrorOption ?? ((e: Error) => console.error(`pc2 edge: ${e.message}`));
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-worker.ts', import.meta.url)), execArgv: workerExecArgv() });

  const reloads = new Map<Worker, number>();
  // Once listening, a worker that is the only one left is replaced on the ports actually bound; while
  // others live, a replacement asks for the same (maybe 0) ports so that it shares their sockets.
  let resolvedOptions: ClusterWorkerOptions = gatewayOptions;
  let closing = false;
  let restarts = 0;

  const fork = (workerOptions: ClusterWorkerOptions): Promise<{ ports: GatewayCluster['ports'] }> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      reloads.set(worker, 0);
      let ready = false;
      const timer = setTimeout(() => {
        worker.process.kill('SIGKILL');
        reject(new EdgeError('INTERNAL', `gateway worker ${worker.process.pid} did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      worker.on('message', (m: WorkerMessage) => {
        if (m?.pc2 === 'waiting') {
          worker.send({ pc2: 'start', options: workerOptions } satisfies WorkerStart);
        } else if (m?.pc2 === 'ready') {
          ready = true;
          clearTimeout(timer);
          resolve({ ports: m.ports });
        } else if (m?.pc2 === 'failed') {
          clearTimeout(timer);
          reject(new EdgeError('INVALID_CONFIG', m.message));
        } else if (m?.pc2 === 'reloaded') {
          reloads.set(worker, (reloads.get(worker) ?? 0) + 1);
        } else if (m?.pc2 === 'error') {
          onError(new Error(`worker ${worker.process.pid}: ${m.message}`));
        }
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reloads.delete(worker);
        if (!ready) return reject(new EdgeError('INTERNAL', `gateway worker exited before listening (${signal ?? code})`));
        if (closing) return;
        restarts++;
        onError(new Error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`));
        fork(reloads.size ? gatewayOptions : resolvedOptions).catch((e: Error) => onError(e));
      });
    });

  const stopAll = () =>
    Promise.all(
      [...reloads.keys()].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), 10_000);
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (worker.isConnected()) worker.send({ pc2: 'close' });
            else worker.process.kill('SIGTERM');
          }),
      ),
    );

  let ports: GatewayCluster['ports'];
  try {
    // The first worker binds (any free port for 0); the others share its sockets.
    ports = (await fork(gatewayOptions)).ports;
    resolvedOptions = { ...gatewayOptions, httpsPort: ports.https ?? gatewayOptions.httpsPort, httpPort: ports.http ?? gatewayOptions.httpPort };
    await Promise.all(Array.from({ length: count - 1 }, () => fork(gatewayOptions)));
  } catch (e) {
    closing = true;
    await stopAll();
    throw e;
  }
  return {
    ports,
    get pids() {
      return [...reloads.keys()].map((w) => w.process.pid!);
    },
    get certificateReloads() {
      return reloads.size ? Math.min(...reloads.values()) : 0;
    },
    get restarts() {
      return restarts;
    },
    async close() {
      closing = true;
      await stopAll();
    },
  };
}
