/**
 * The signed write endpoints as one table, so the Hono app and the node:http fast path route them
 * the same way: method, path suffix, the body field holding the JWS, and the service call.
 */
import { RegistryError } from './errors.ts';
import type { WriteBudget } from './limits.ts';
import type { RegistryService } from './service.ts';

export const MAX_WRITE_BODY_BYTES = 64 * 1024;

export interface WriteOp {
  method: 'POST' | 'PUT';
  /** Path below /api/v1/names/:name/. */
  action: 'claim' | 'route' | 'release' | 'transfer' | 'accept';
  field: 'request' | 'route';
  run(
    service: RegistryService,
    name: string,
    jws: unknown,
    budget: WriteBudget,
  ): Promise<{ status: 200 | 201 | 202; body: unknown }>;
}

const OPS: readonly WriteOp[] = [
  {
    method: 'POST',
    action: 'claim',
    field: 'request',
    async run(s, name, jws, budget) {
      const { created, body } = await s.claim(name, jws, budget);
      return { status: created ? 201 : 200, body };
    },
  },
  {
    method: 'PUT',
    action: 'route',
    field: 'route',
    run: async (s, name, jws, budget) => ({
      status: 200,
      body: await s.publishRoute(name, jws, budget),
    }),
  },
  {
    method: 'POST',
    action: 'release',
    field: 'request',
    run: async (s, name, jws, budget) => ({
      status: 200,
      body: await s.release(name, jws, budget),
    }),
  },
  {
    method: 'POST',
    action: 'transfer',
    field: 'request',
    run: async (s, name, jws, budget) => ({
      status: 202,
      body: await s.transfer(name, jws, budget),
    }),
  },
  {
    method: 'POST',
    action: 'accept',
    field: 'request',
    run: async (s, name, jws, budget) => ({
      status: 200,
      body: await s.acceptTransfer(name, jws, budget),
    }),
  },
];

/**
 * Each write counted by outcome (`ok` or the refusal's code) in its service's counters, for the
 * metrics: claims, renewals (route) and refusals by reason.
 */
export const WRITE_OPS: readonly WriteOp[] = OPS.map((op) => ({
  ...op,
  async run(service, name, jws, budget) {
    try {
      const result = await op.run(service, name, jws, budget);
      service.counters.count(op.action, 'ok');
      return result;
    } catch (e) {
      service.counters.count(op.action, e instanceof RegistryError ? e.code : 'INTERNAL');
      throw e;
    }
  },
}));

/** The signed record in a write body `{<field>: JWS}`; BAD_REQUEST when the body is not a JSON object. */
export function writeBodyField(text: string, field: WriteOp['field']): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value))
      return (value as Record<string, unknown>)[field];
  } catch {
    // fall through
  }
  throw new RegistryError('BAD_REQUEST', 'the body is a JSON object');
}
