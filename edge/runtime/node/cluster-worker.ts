/**
 * One worker process of the Node.js gateway (see cluster.ts): waits for its options from the
 * primary, runs a full gateway on the shared ports, and reports back readiness, certificate reloads
 * and errors. Its listening sockets are the primary's (node:cluster hands connections round-robin).
 */
import { EdgeError } from '../../errors.ts';
import { type Gateway, startGateway } from './server.ts';
import type { MetricsReply, WorkerMessage, WorkerStart } from './cluster.ts';
import { createGatewayMetrics, shareWithPrimary } from './metrics.ts';

function send(message: WorkerMessage): void {
  process.send?.(message);
}

let gateway: Gateway | undefined;

/** The primary's sum of every worker's metrics (it asks them all, this one included). */
const waiting = new Map<number, (reply: MetricsReply) => void>();
let nextId = 0;
function askPrimary(): Promise<{ contentType: string; body: string }> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the primary did not answer'));
    }, 10_000);
    waiting.set(id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    send({ pc2: 'metrics', id });
  });
}

process.on('message', (message: WorkerStart | MetricsReply | { pc2: 'close' }) => {
  if (message?.pc2 === 'metrics') {
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  } else if (message?.pc2 === 'start') {
    const { metrics: metricsOption, ...options } = message.options;
    const metrics = metricsOption ? createGatewayMetrics() : null;
    if (metrics) shareWithPrimary(metrics.registry);
    startGateway({
      ...options,
      onError: (e) => send({ pc2: 'error', message: e.message }),
      onCertificateReload: () => send({ pc2: 'reloaded' }),
      observer: metrics?.observer,
      metricsEndpoint: metricsOption?.token
        ? { token: metricsOption.token, render: askPrimary }
        : undefined,
    }).then(
      (g) => {
        gateway = g;
        metrics?.attach({
          edge: g.edge,
          certificateReloads: () => g.certificateReloads,
          certificateNotAfter: () => g.certificateNotAfter,
        });
        send({ pc2: 'ready', ports: g.ports });
      },
      (e: Error) => {
        send({ pc2: 'failed', message: e instanceof EdgeError ? e.message : String(e.message) });
        process.exit(1);
      },
    );
  } else if (message?.pc2 === 'close') {
    const done = () => process.exit(0);
    (gateway ? gateway.close() : Promise.resolve()).then(done, done);
  }
});

// Messages sent before a listener is attached are lost: ask for the options only now.
send({ pc2: 'waiting' });

// The primary going away (killed, crashed) takes its workers with it.
process.on('disconnect', () => process.exit(0));
