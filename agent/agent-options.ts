/** NodeAgent options: one object, documented defaults, declared once (shared/options.ts), unknown keys refused. */
import { KeyPair } from '../shared/keys.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import {
  instance,
  integer,
  nested,
  nonEmptyString,
  object,
  oneOf,
  optional,
  type Rules,
  rule,
  string,
  withDefault,
} from '../shared/options.ts';
import { MAX_LEASE_MS } from '../shared/records/route.ts';
import type { AgentMode } from './agent-status.ts';
import type { HostHeader } from './entry.ts';

export interface NodeAgentOptions {
  key: KeyPair;
  name: string;
  /** The local app, e.g. http://127.0.0.1:4200. */
  upstream: string;
  /** Super node API URLs, primary first. */
  superNodes: string[];
  /** Default 'auto': direct only if a super node can reach `publicUrl`. */
  mode?: AgentMode;
  /** The node's own public http(s) URL, if it has one (direct mode): it should lead to `listen`. */
  publicUrl?: string;
  /** Direct mode: where the agent's entry listens for the edge. Without it the edge goes to `publicUrl` as it is. */
  listen?: { host: string; port: number };
  /** Route record lease, 10 s to 24 h. Default 10 min. */
  leaseMs?: number;
  /** What Host the app sees: the visitor's (default), or the one the last hop sent ('hop'). */
  hostHeader?: HostHeader;
  /** How often the app is checked. Default 10,000 ms. */
  appCheckMs?: number;
  /** How long an app check waits for an answer. Default 5,000 ms. */
  appTimeoutMs?: number;
  /** How soon a failed publish, an unreachable super node or a failed tunnel is tried again. Default 5,000 ms. */
  retryMs?: number;
  /** Requests kept for the inspector. Default 200. */
  requestLogSize?: number;
  clock?: { now(): number };
  logger?: Logger;
}

/** An http:// URL: the node's upstream. */
const httpUrl = rule<string>(
  (v) => typeof v === 'string' && URL.canParse(v) && new URL(v).protocol === 'http:',
  'an http:// URL',
);
const webUrl = rule<string>(
  (v) => typeof v === 'string' && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
  'an http:// or https:// URL',
);

export const AGENT_OPTIONS = {
  key: instance(KeyPair),
  name: nonEmptyString,
  upstream: httpUrl,
  superNodes: rule<string[]>(
    (v) => Array.isArray(v) && v.length > 0 && v.every((u) => webUrl(u, 'superNodes') === u),
    'a non-empty list of http(s) super node URLs',
  ),
  mode: withDefault(oneOf<AgentMode>('auto', 'direct', 'relay'), 'auto'),
  publicUrl: optional(webUrl),
  listen: optional(nested({ host: string, port: integer(0, 65535) })),
  leaseMs: withDefault(integer(10_000, MAX_LEASE_MS), 10 * 60_000),
  hostHeader: withDefault(oneOf<HostHeader>('visitor', 'hop'), 'visitor'),
  appCheckMs: withDefault(integer(100, 3_600_000), 10_000),
  appTimeoutMs: withDefault(integer(100, 600_000), 5_000),
  retryMs: withDefault(integer(100, 600_000), 5_000),
  requestLogSize: withDefault(integer(1, 100_000), 200),
  clock: withDefault(object<{ now(): number }>(), { now: () => Date.now() }),
  logger: withDefault(object<Logger>(), silentLogger),
} satisfies Rules<NodeAgentOptions>;
