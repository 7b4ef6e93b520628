/**
 * The one order every signed write and probe goes through (docs/registry.md, "Signed requests"):
 * the checks on the record as written (shape, op, name, time, and the caller's: signer, seq, state),
 * then the signature, charged to the sender's verification budget, then the same checks on what was
 * verified. A record that fails a cheap check could not succeed signed or not, so it costs no
 * verification; the caller checks seq and state once more under the name's lock.
 */
import type { Result } from '../../shared/errors.ts';
import { readUnverified } from '../../shared/records/jws.ts';
import {
  checkRequest,
  type RegistryOp,
  type RegistryRequest,
  REQUEST_TYP,
  type VerifiedRequest,
} from '../../shared/records/request.ts';
import {
  checkRoute,
  ROUTE_TYP,
  type RouteRecord,
  type VerifiedRoute,
} from '../../shared/records/route.ts';
import { RegistryError } from './errors.ts';
import type { WriteBudget } from './limits.ts';
import { verifyJwsNative } from './native-jws.ts';

export class Admission {
  readonly #clock: { now(): number };
  readonly #skewMs: number;

  constructor(o: { clock: { now(): number }; clockSkewMs: number }) {
    this.#clock = o.clock;
    this.#skewMs = o.clockSkewMs;
  }

  checkIat(iat: number): void {
    if (Math.abs(iat - this.#clock.now()) > this.#skewMs) {
      throw new RegistryError(
        'CLOCK_SKEW',
        `issued-at is more than ${this.#skewMs} ms from the registrar clock`,
      );
    }
  }

  /** A request's shape, op, name and freshness, or the right error. */
  #request(result: Result<VerifiedRequest>, op: RegistryOp, name: string): VerifiedRequest {
    if (!result.ok) {
      const code = result.error.code === 'INVALID_SIGNATURE' ? 'INVALID_SIGNATURE' : 'BAD_REQUEST';
      throw new RegistryError(code, result.error.message);
    }
    const { request } = result.value;
    if (request.op !== op)
      throw new RegistryError('BAD_REQUEST', `this endpoint takes op "${op}", not "${request.op}"`);
    if (request.name !== name)
      throw new RegistryError('WRONG_NAME', 'the signed request is for another name');
    this.checkIat(request.iat);
    return result.value;
  }

  /** A signed request for `op` on `name`, admitted in the one order; `check` is the caller's part. */
  async request(
    jws: unknown,
    op: RegistryOp,
    name: string,
    budget: WriteBudget,
    check: (req: VerifiedRequest) => void,
  ): Promise<VerifiedRequest> {
    const written = checkRequest(readUnverified<RegistryRequest>(jws, REQUEST_TYP), jws);
    check(this.#request(written, op, name));
    budget.verification();
    const verified = checkRequest(await verifyJwsNative<RegistryRequest>(jws, REQUEST_TYP), jws);
    const req = this.#request(verified, op, name);
    check(req);
    return req;
  }

  /** A route record's shape, name and times. */
  #route(result: Result<VerifiedRoute>, name: string): VerifiedRoute {
    if (!result.ok) {
      throw new RegistryError(
        result.error.code === 'INVALID_SIGNATURE' ? 'INVALID_SIGNATURE' : 'INVALID_RECORD',
        result.error.message,
      );
    }
    const { route } = result.value;
    if (route.name !== name)
      throw new RegistryError('WRONG_NAME', 'the route record is for another name');
    this.checkIat(route.iat);
    if (route.exp <= this.#clock.now())
      throw new RegistryError('INVALID_RECORD', 'the route record has already expired');
    return result.value;
  }

  /** A route record for `name`, admitted in the one order; `check` is the caller's part. */
  async route(
    jws: unknown,
    name: string,
    budget: WriteBudget,
    check: (route: VerifiedRoute) => void,
  ): Promise<VerifiedRoute> {
    check(this.#route(checkRoute(readUnverified<RouteRecord>(jws, ROUTE_TYP), jws), name));
    budget.verification();
    const verified = this.#route(
      checkRoute(await verifyJwsNative<RouteRecord>(jws, ROUTE_TYP), jws),
      name,
    );
    check(verified);
    return verified;
  }
}
