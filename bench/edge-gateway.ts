/**
 * The Node.js gateway as bench:edge runs it, in its own process as `pc2 gateway` runs it: one worker
 * is the gateway in this process (startGateway), more are node:cluster workers
 * (startGatewayCluster). Options come as JSON in PC2_BENCH_GATEWAY (`tls`, `http2`, `privateNames`,
 * passed on); prints its port (the HTTPS one with `tls`) when listening.
 */
import { startGateway } from '../edge/runtime/node/server.ts';
import { startGatewayCluster } from '../edge/runtime/node/cluster.ts';
import { createGatewayMetrics } from '../edge/runtime/node/metrics.ts';

// metrics: as `pc2 gateway --metrics` runs it (the request path counted; scrapes are not made).
const { config, workers, metrics, ...rest } = JSON.parse(process.env.PC2_BENCH_GATEWAY ?? '{}');
const options = rest.tls
  ? { config, hostname: '127.0.0.1', httpsPort: 0, httpPort: null, ...rest }
  : { config, hostname: '127.0.0.1', httpPort: 0, ...rest };
const observed = metrics && workers === 1 ? createGatewayMetrics() : null;
const gateway =
  workers > 1
    ? await startGatewayCluster({ ...options, workers, metrics: metrics ? {} : undefined })
    : await startGateway({ ...options, observer: observed?.observer });
process.stdout.write(`${gateway.ports.https ?? gateway.ports.http}\n`);
process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
