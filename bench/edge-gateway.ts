/**
 * The Node gateway as bench:edge runs it, in its own process as `pc2 gateway` runs it: one worker
 * is the gateway in this process (startNodeGateway), more are node:cluster workers
 * (startGatewayWorkers). Options come as JSON in PC2_BENCH_GATEWAY; prints its port when listening.
 */
import { startNodeGateway } from '../edge/runtime/node/server.ts';
import { startGatewayWorkers } from '../edge/runtime/node/cluster.ts';

const { config, workers } = JSON.parse(process.env.PC2_BENCH_GATEWAY ?? '{}');
const options = { config, hostname: '127.0.0.1', httpPort: 0 };
const gateway = workers > 1 ? await startGatewayWorkers({ ...options, workers }) : await startNodeGateway(options);
process.stdout.write(`${gateway.ports.http}\n`);
process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
