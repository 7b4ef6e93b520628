/**
 * The registry's rules: who may claim, renew, release and transfer a name, checked against the
 * durable store. Each operation on a name runs under that name's lock and returns only after the
 * change is on disk.
 */
import { Id } from '../../shared/id.ts';
import { BINDING_TYP, type NameBinding } from '../../shared/records/binding.ts';
import { checkName } from '../../shared/records/names.ts';
import {
  checkRequest,
  type RegistryOp,
  type RegistryRequest,
  REQUEST_TYP,
  type VerifiedRequest,
} from '../../shared/records/request.ts';
import { signJwsNative, verifyJwsNative } from './native-jws.ts';
import { verifyRoute, type VerifiedRoute } from '../../shared/records/route.ts';
import type {
  AvailabilityResponse,
  ClaimResponse,
  PublishRouteResponse,
  TransferOfferResponse,
} from '../../shared/records/api.ts';
import { RegistryError } from './errors.ts';
import { KeyedLock } from './keyed-lock.ts';
import type { ResolvedOptions } from './options.ts';
import { checkEndpoint } from '../../shared/endpoint.ts';
import { type NameEntry, type NameState, nameStatus } from './state.ts';
import type { RegistryStore } from './store.ts';

export type CommitListener = (entries: NameEntry[]) => void;

export class RegistryService {
  readonly lock = new KeyedLock();
  readonly #o: ResolvedOptions;
  readonly #store: RegistryStore;
  readonly #reserved: Set<string>;
  readonly #resolveCache = new WeakMap<NameEntry, string>();
  /** Called after every local write is durable (replication pushes it). */
  onLocalCommit: CommitListener = () => {};

  constructor(options: ResolvedOptions, store: RegistryStore) {
    this.#o = options;
    this.#store = store;
    this.#reserved = new Set(options.reservedNames);
  }

  #now(): number {
    return this.#o.clock.now();
  }

  /** Verifies a signed request for `op` on `name`: signature, name, freshness. Seq is checked later, under the lock. */
  async #authenticate(jws: unknown, op: RegistryOp, name: string): Promise<VerifiedRequest> {
    const verified = checkRequest(await verifyJwsNative<RegistryRequest>(jws, REQUEST_TYP), jws);
    if (!verified.ok) {
      const code =
        verified.error.code === 'INVALID_SIGNATURE' ? 'INVALID_SIGNATURE' : 'BAD_REQUEST';
      throw new RegistryError(code, verified.error.message);
    }
    const { request } = verified.value;
    if (request.op !== op)
      throw new RegistryError('BAD_REQUEST', `this endpoint takes op "${op}", not "${request.op}"`);
    if (request.name !== name)
      throw new RegistryError('WRONG_NAME', 'the signed request is for another name');
    this.#checkIat(request.iat);
    return verified.value;
  }

  /** Byte-for-byte what shared `signBinding` makes, on node:crypto (the claim hot path). */
  #signBinding(b: { name: string; owner: string; boundAt: number }): Promise<string> {
    const payload: NameBinding = {
      v: 1,
      name: b.name,
      owner: b.owner,
      boundAt: b.boundAt,
      registrar: this.#o.key.id.toString(),
    };
    return signJwsNative(payload, this.#o.key, BINDING_TYP);
  }

  #checkIat(iat: number): void {
    if (Math.abs(iat - this.#now()) > this.#o.clockSkewMs) {
      throw new RegistryError(
        'CLOCK_SKEW',
        `issued-at is more than ${this.#o.clockSkewMs} ms from the registrar clock`,
      );
    }
  }

  #checkSeq(req: VerifiedRequest): [string, string, number] {
    const signer = req.signer.toString();
    if (req.request.seq <= this.#store.requestSeq(signer, req.request.name)) {
      throw new RegistryError(
        'REPLAYED',
        'seq is not higher than the last request of this key for this name',
      );
    }
    return [signer, req.request.name, req.request.seq];
  }

  #checkName(name: string): void {
    const checked = checkName(name, this.#reserved);
    if (!checked.ok)
      throw new RegistryError(
        checked.error.code === 'RESERVED_NAME' ? 'RESERVED_NAME' : 'INVALID_NAME',
        checked.error.message,
      );
  }

  /** The bound entry of `name` owned by `signer`, or the right error. */
  #owned(name: string, signer: Id): NameEntry {
    const entry = this.#store.get(name);
    if (!entry || entry.state.released)
      throw new RegistryError('NOT_FOUND', `"${name}" is not registered`);
    if (entry.binding.owner !== signer.toString())
      throw new RegistryError('NOT_OWNER', `"${name}" belongs to another key`);
    return entry;
  }

  /** A release or transfer signed for an earlier binding of the name is a replay. */
  #checkLine(entry: NameEntry, req: VerifiedRequest): void {
    if (req.request.boundAt !== entry.binding.boundAt) {
      throw new RegistryError(
        'REPLAYED',
        'the request was signed for another binding of this name',
      );
    }
  }

  async #commit(state: NameState, seq: [string, string, number] | null): Promise<NameEntry> {
    const [entry] = await this.#store.commit({ states: [state], seqs: seq ? [seq] : [] });
    this.onLocalCommit([entry]);
    return entry;
  }

  async claim(name: string, jws: unknown): Promise<{ created: boolean; body: ClaimResponse }> {
    this.#checkName(name);
    const req = await this.#authenticate(jws, 'claim', name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#store.get(name);
      const now = this.#now();
      const status = nameStatus(entry, now, this.#o.holdPeriodMs);
      if (entry && (status === 'online' || status === 'offline' || status === 'bound')) {
        if (entry.binding.owner === req.signer.toString())
          return { created: false, body: { name, binding: entry.state.binding } };
        throw new RegistryError(
          status === 'offline' ? 'NAME_HELD' : 'NAME_TAKEN',
          status === 'offline'
            ? `"${name}" is offline but stays bound to its owner for the hold period`
            : `"${name}" is bound to another key`,
        );
      }
      const binding = await this.#signBinding({ name, owner: req.signer.toString(), boundAt: now });
      const previous = entry?.state.released
        ? { binding: entry.state.binding, released: entry.state.released }
        : null;
      const state: NameState = {
        name,
        binding,
        origin: binding,
        transfers: [],
        route: null,
        released: null,
        offer: null,
        previous,
      };
      await this.#commit(state, seq);
      return { created: true, body: { name, binding } };
    });
  }

  async publishRoute(name: string, jws: unknown): Promise<PublishRouteResponse> {
    const verified = await verifyRoute(jws);
    if (!verified.ok) {
      throw new RegistryError(
        verified.error.code === 'INVALID_SIGNATURE' ? 'INVALID_SIGNATURE' : 'INVALID_RECORD',
        verified.error.message,
      );
    }
    const { route, node } = verified.value;
    if (route.name !== name)
      throw new RegistryError('WRONG_NAME', 'the route record is for another name');
    this.#checkIat(route.iat);
    if (route.exp <= this.#now())
      throw new RegistryError('INVALID_RECORD', 'the route record has already expired');
    if (route.mode === 'direct') {
      const endpoint = checkEndpoint(route.endpoint, this.#o.developerMode);
      if (!endpoint.ok) throw new RegistryError('INVALID_ENDPOINT', endpoint.reason);
    }
    return this.lock.run(name, async () => {
      const entry = this.#owned(name, node);
      if (entry.route && route.seq <= entry.route.seq) {
        throw new RegistryError(
          'STALE_SEQ',
          `seq ${route.seq} is not higher than the current ${entry.route.seq}`,
        );
      }
      await this.#commit({ ...entry.state, route: jws as string }, null);
      this.#announce(verified.value);
      return { name, seq: route.seq, exp: route.exp };
    });
  }

  #announce(route: VerifiedRoute): void {
    try {
      this.#o.onRoutePublished?.(route);
    } catch (e) {
      this.#o.logger.warn('onRoutePublished failed', { error: (e as Error).message });
    }
  }

  async release(name: string, jws: unknown): Promise<{ name: string; released: true }> {
    const req = await this.#authenticate(jws, 'release', name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#owned(name, req.signer);
      this.#checkLine(entry, req);
      await this.#commit({ ...entry.state, route: null, offer: null, released: req.jws }, seq);
      return { name, released: true };
    });
  }

  async transfer(name: string, jws: unknown): Promise<TransferOfferResponse> {
    const req = await this.#authenticate(jws, 'transfer', name);
    let to: Id;
    try {
      to = Id.parse(req.request.to ?? '');
    } catch {
      throw new RegistryError('BAD_REQUEST', 'a transfer names the new owner id in "to"');
    }
    if (to.equals(req.signer))
      throw new RegistryError('BAD_REQUEST', 'the new owner is the current owner');
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#owned(name, req.signer);
      this.#checkLine(entry, req);
      await this.#commit({ ...entry.state, offer: req.jws }, seq);
      return { name, to: to.toString(), expiresAt: req.request.iat + this.#o.transferTtlMs };
    });
  }

  async acceptTransfer(name: string, jws: unknown): Promise<ClaimResponse> {
    const req = await this.#authenticate(jws, 'accept-transfer', name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#store.get(name);
      const offer = entry?.offer;
      if (
        !entry ||
        entry.state.released ||
        !offer ||
        !entry.state.offer ||
        offer.to !== req.signer.toString()
      ) {
        throw new RegistryError(
          'NO_PENDING_TRANSFER',
          `no transfer of "${name}" to this key is pending`,
        );
      }
      if (offer.iat + this.#o.transferTtlMs <= this.#now())
        throw new RegistryError('NO_PENDING_TRANSFER', 'the transfer offer has lapsed');
      if (req.request.from !== undefined && req.request.from !== entry.binding.owner) {
        throw new RegistryError(
          'NO_PENDING_TRANSFER',
          'the name is no longer owned by the key the acceptance names',
        );
      }
      // The line keeps its original boundAt, so the partition rule still ranks it by when it began.
      const binding = await this.#signBinding({
        name,
        owner: req.signer.toString(),
        boundAt: entry.binding.boundAt,
      });
      const transfers = [...entry.state.transfers, { offer: entry.state.offer, accept: req.jws }];
      await this.#commit({ ...entry.state, binding, transfers, route: null, offer: null }, seq);
      return { name, binding };
    });
  }

  /** The ResolveResponse JSON text, or NOT_FOUND. */
  resolveJson(name: string): string {
    const entry = this.#store.get(name);
    if (!entry || entry.state.released)
      throw new RegistryError('NOT_FOUND', `"${name}" is not registered`);
    let json = this.#resolveCache.get(entry);
    if (!json) {
      json = JSON.stringify({ name, binding: entry.state.binding, route: entry.state.route });
      this.#resolveCache.set(entry, json);
    }
    return json;
  }

  available(name: string): AvailabilityResponse {
    const checked = checkName(name, this.#reserved);
    if (!checked.ok)
      return {
        name,
        available: false,
        reason: checked.error.code === 'RESERVED_NAME' ? 'reserved' : 'invalid',
      };
    const status = nameStatus(this.#store.get(name), this.#now(), this.#o.holdPeriodMs);
    if (status === 'free' || status === 'lapsed') return { name, available: true };
    return { name, available: false, reason: status === 'offline' ? 'held' : 'taken' };
  }
}
