/**
 * Reachability probe: a node agent asks a super node to connect back to the endpoint it is about to
 * publish. Only a node whose endpoint answers from the outside gets direct mode; the rest are relayed.
 * The probe is a connection the super node makes on someone else's behalf, so it is fenced:
 *
 * - only for the owner of a name bound here, on a request that owner signed (op "probe", the name,
 *   the endpoint), checked in the registry's order: cheap checks, then the signature, then the name's
 *   budget (registry/service.ts `admitProbe`), within per-address request limits;
 * - only to that endpoint, only http(s), only a public address: literal addresses are judged as
 *   written, names at connect time (the socket gets only the public addresses the one lookup found,
 *   shared/endpoint.ts), so a name that resolves to 127.0.0.1 is refused, not connected to;
 * - no redirects, a short timeout, the body never read.
 */
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { guardLookup, type Lookup } from '../shared/endpoint.ts';
import { probePath, type ProbeResponse } from '../shared/records/api.ts';
import { limitBody } from './body-limit.ts';
import { RegistryError } from './registry/errors.ts';
import type { WriteBudget } from './registry/limits.ts';

export const PROBE_PATH = probePath;
/** A probe body is `{request: <JWS>}`; a JWS is at most 16 KiB. */
export const MAX_PROBE_BODY_BYTES = 17 * 1024;

export interface ProbeOptions {
  /**
   * Checks the signed probe request for `name` (owner, signature, endpoint) and returns the endpoint
   * to probe, or throws a RegistryError; `budget` is the sender's (registry/limits.ts).
   */
  admit(name: string, jws: unknown, budget: WriteBudget): Promise<URL>;
  /** Charges one probe to its client address (throws RATE_LIMITED) and gives its other budgets. */
  budget(remote: string | undefined, forwardedFor: string | undefined): WriteBudget;
  /** Admits loopback and private addresses (devnet, tests on loopback). */
  developerMode: boolean;
  /** Give up on the endpoint after this long. Default 3000. */
  timeoutMs?: number;
}

/** One GET to `endpoint`, connected only to an address `lookup` allows; never throws. */
export function probeEndpoint(
  endpoint: URL,
  options: { lookup: Lookup; timeoutMs?: number },
): Promise<ProbeResponse> {
  const lib = endpoint.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: ProbeResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const req = lib.request(endpoint, {
      method: 'GET',
      agent: false,
      lookup: options.lookup as never,
      headers: { 'user-agent': 'pc2-probe' },
    });
    const timer = setTimeout(
      () => finish({ reachable: false, error: 'timeout' }),
      options.timeoutMs ?? 3000,
    );
    req.on('response', (res) => {
      res.resume();
      finish({ reachable: true, status: res.statusCode });
    });
    req.on('error', (e) =>
      finish({ reachable: false, error: (e as { code?: string }).code ?? e.message }),
    );
    req.end();
  });
}

function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

export function createProbeApp(options: ProbeOptions): Hono {
  const lookup = guardLookup(dnsLookup as unknown as Lookup, options.developerMode);
  const app = new Hono();
  app.onError((e, c) => {
    const error = e instanceof RegistryError ? e : new RegistryError('INTERNAL', 'internal error');
    return c.json({ error: { code: error.code, message: error.message } }, error.status);
  });
  app.post(PROBE_PATH, limitBody(MAX_PROBE_BODY_BYTES), async (c) => {
    const budget = options.budget(remoteAddress(c), c.req.header('x-forwarded-for'));
    const body = (await c.req.json().catch(() => null)) as { request?: unknown } | null;
    if (!body || typeof body !== 'object' || typeof body.request !== 'string')
      throw new RegistryError('BAD_REQUEST', 'the body is {"request": <probe request JWS>}');
    const endpoint = await options.admit(nameOf(body.request), body.request, budget);
    return c.json(await probeEndpoint(endpoint, { lookup, timeoutMs: options.timeoutMs }));
  });
  return app;
}

/** The name a request says it is for (`admit` checks the rest, the signature included). */
function nameOf(jws: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.name === 'string' ? payload.name : '';
  } catch {
    return '';
  }
}
