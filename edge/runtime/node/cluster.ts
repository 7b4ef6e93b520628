/**
 * The Node.js gateway on several cores: N worker processes (node:cluster), each a full gateway
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
import {
  checkOptions,
  fn,
  integer,
  type Rules,
  rule,
  withDefault,
} from '../../../shared/options.ts';
import { type GatewayOptions, WORKER_GATEWAY_OPTIONS } from './server.ts';

/** What a worker is started with: everything of GatewayOptions that can cross a process boundary. */
export type ClusterWorkerOptions = Omit<
  GatewayOptions,
  'config' | 'onError' | 'onCertificateReload'
> & {
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

const CLUSTER_OPTIONS = {
  ...WORKER_GATEWAY_OPTIONS,
  config: rule<ClusterWorkerOptions['config']>(
    (v) => typeof v === 'object' && v !== null && !('fetch' in v) && !('now' in v),
    'a config without fetch and now (the workers run in other processes)',
  ),
  workers: integer(1, 1024),
  onError: withDefault(fn<(error: Error) => void>(), (e: Error) =>
    console.error(`pc2 edge: ${e.message}`),
  ),
  startTimeoutMs: withDefault(integer(1, 3_600_000), 30_000),
} satisfies Rules<GatewayClusterOptions>;

/** The worker runs the same TypeScript sources: under tsx's loader, whether or not this process has it. */
function workerExecArgv(): string[] {
  if (process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [...process.execArgv, '--import', loader];
}

export async function startGatewayCluster(options: GatewayClusterOptions): Promise<GatewayCluster> {
  const {
    workers: count,
    onError,
    startTimeoutMs,
  } = checkOptions(
    options,
    CLUSTER_OPTIONS,
    'gateway cluster options',
    (message) => new EdgeError('INVALID_CONFIG', message),
  );
  if (!cluster.isPrimary)
    throw new EdgeError('INVALID_CONFIG', 'startGatewayCluster runs in a cluster primary only');
  // The workers check their own options again (startGateway); they get them as given.
  const {
    workers: _workers,
    onError: _onError,
    startTimeoutMs: _startTimeoutMs,
    ...gatewayOptions
  } = options;
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./cluster-worker.ts', import.meta.url)),
    execArgv: workerExecArgv(),
  });

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
        reject(
          new EdgeError(
            'INTERNAL',
            `gateway worker ${worker.process.pid} did not start within ${startTimeoutMs} ms`,
          ),
        );
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
        if (!ready)
          return reject(
            new EdgeError('INTERNAL', `gateway worker exited before listening (${signal ?? code})`),
          );
        if (closing) return;
        restarts++;
        onError(
          new Error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`),
        );
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
    resolvedOptions = {
      ...gatewayOptions,
      httpsPort: ports.https ?? gatewayOptions.httpsPort,
      httpPort: ports.http ?? gatewayOptions.httpPort,
    };
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
