/**
 * The metrics flags every long-running command takes, and what they start: `--metrics` serves the
 * Prometheus text on an address of its own (loopback unless an address is given), `--metrics-token`
 * on the command's main port at GET /metrics, to requests that carry the token as a bearer.
 */
import type { Registry } from 'prom-client';
import type { MetricSet } from '../../shared/metrics.ts';
import { CliError, EXIT } from '../errors.ts';
import { addMetricSet, createMetricsRegistry } from './registry.ts';
import {
  type MetricsServer,
  parseMetricsAddress,
  type Render,
  startMetricsServer,
} from './server.ts';

export const METRICS_SPEC = {
  metrics: {
    kind: 'string',
    value: '[<address>:]<port>',
    description:
      'serve Prometheus metrics at http://<address>:<port>/metrics (address 127.0.0.1 unless given)',
  },
  metricsToken: {
    kind: 'string',
    value: '<token>',
    description:
      'serve GET /metrics on the main port too, to requests with "Authorization: Bearer <token>" (at least 16 characters)',
  },
} as const;

export interface MetricsFlags {
  metrics?: string;
  metricsToken?: string;
}

export const MIN_TOKEN_CHARS = 16;

/** The token, checked; undefined when not given. */
export function metricsToken(flags: MetricsFlags): string | undefined {
  const token = flags.metricsToken;
  if (token === undefined) return undefined;
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token))
    throw new CliError(
      `--metrics-token is at least ${MIN_TOKEN_CHARS} characters without spaces (e.g. \`openssl rand -hex 24\`)`,
      EXIT.USAGE,
    );
  return token;
}

/** Renders a registry as the Prometheus text. */
export function renderRegistry(registry: Registry): Render {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}

export interface RoleMetrics {
  registry: Registry;
  render: Render;
  /** The bearer token for the main port, when asked for. */
  token?: string;
  server: MetricsServer | null;
  close(): Promise<void>;
}

export function metricsWanted(flags: MetricsFlags): boolean {
  return flags.metrics !== undefined || flags.metricsToken !== undefined;
}

/**
 * Builds the registry for `sets` (or adds them to `registry`, e.g. the gateway's of the same
 * process); starts the own-address server when `--metrics` is given. Null when neither flag is.
 */
export async function startRoleMetrics(
  flags: MetricsFlags,
  sets: MetricSet[],
  registry?: Registry,
): Promise<RoleMetrics | null> {
  const token = metricsToken(flags);
  if (!metricsWanted(flags)) return null;
  const address = flags.metrics === undefined ? null : parseMetricsAddress(flags.metrics);
  if (registry) for (const set of sets) addMetricSet(registry, set);
  else registry = createMetricsRegistry({ sets });
  const render = renderRegistry(registry);
  const server = address ? await startMetricsServer(address, render) : null;
  return { registry, render, token, server, close: async () => server?.close() };
}
