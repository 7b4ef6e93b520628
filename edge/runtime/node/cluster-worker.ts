/**
 * One worker process of the Node.js gateway (see cluster.ts): waits for its options from the
 * primary, runs a full gateway on the shared ports, and reports back readiness, certificate reloads
 * and errors. Its listening sockets are the primary's (node:cluster hands connections round-robin).
 */
import { EdgeError } from '../../errors.ts';
import { type Gateway, startGateway } from './server.ts';
import type { WorkerMessage, WorkerStart } from './cluster.ts';

function send(message: WorkerMessage): void {
  process.send?.(message);
}

let gateway: Gateway | undefined;

process.on('message', (message: WorkerStart | { pc2: 'close' }) => {
  if (message?.pc2 === 'start') {
    startGateway({
      ...message.options,
      onError: (e) => send({ pc2: 'error', message: e.message }),
      onCertificateReload: () => send({ pc2: 'reloaded' }),
    }).then(
      (g) => {
        gateway = g;
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
