/**
 * The registry's rules: who may claim, renew, release and transfer a name, checked against the
 * durable store. Each operation on a name runs under that name's lock and returns only after the
 * change is on disk.
 *
 * Cheap checks come first, on the request as written (its shape, name, time, signer, seq and the
 * state it acts on): a request that fails them could not succeed even if its signature verified, so
 * it is refused without spending a verification, and without touching any budget but its sender's
 * request budget. Only then the signature, drawn from its sender's verification budget; only a
 * verified request that will change the name draws from the name's write budget (limits.ts).
 */
import { Id } from '../../shared/id.ts';
import { BINDING_TYP, type NameBinding } from '../../shared/records/binding.ts';
import { checkName } from '../../shared/records/names.ts';
import type { VerifiedRequest } from '../../shared/records/request.ts';
import { signJwsNative } from './native-jws.ts';
import type { RouteRecord, VerifiedRoute } from '../../shared/records/route.ts';
import type {
  AvailabilityResponse,
  ClaimResponse,
  PublishRouteResponse,
  TransferOfferResponse,
} from '../../shared/records/api.ts';
import { Admission } from './admission.ts';
import { RegistryError } from './errors.ts';
import { KeyedLock } from './keyed-lock.ts';
import { WriteCounters } from './counters.ts';
import { UNLIMITED, type WriteBudget } from './limits.ts';
import type { ResolvedOptions } from './options.ts';
import { checkEndpoint } from '../../shared/endpoint.ts';
import { type NameEntry, type NameState, nameStatus } from './state.ts';
import type { RegistryStore } from './store.ts';

export type CommitListener = (entries: NameEntry[]) => void;

export class RegistryService {
  readonly lock = new KeyedLock();
  /** Signed writes by operation and outcome (write-ops.ts counts them). */
  readonly counters = new WriteCounters();
  readonly #o: ResolvedOptions;
  readonly #store: RegistryStore;
  readonly #reserved: Set<string>;
  readonly #resolveCache = new WeakMap<NameEntry, string>();
  readonly #admission: Admission;
  /** Called after every local write is durable (replication pushes it). */
  onLocalCommit: CommitListener = () => {};

  constructor(options: ResolvedOptions, store: RegistryStore) {
    this.#o = options;
    this.#store = store;
    this.#reserved = new Set(options.reservedNames);
    this.#admission = new Admission(options);
  }

  #now(): number {
    return this.#o.clock.now();
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

  /**
   * Whether a claim may take its name now: the entry when the name is free (or lapsed), 'owned'
   * when it already is the signer's, else it throws. A claim is addressed to one registrar (seqs are
   * per registrar: accepted anywhere, it could be replayed at another after a release there), and one
   * signed before its own signer released the name (anywhere) is older than that release: a replay.
   */
  #claimable(req: VerifiedRequest): NameEntry | undefined | 'owned' {
    const { name, registrar, iat } = req.request;
    if (registrar !== this.#o.key.id.toString())
      throw new RegistryError(
        'WRONG_REGISTRAR',
        `the claim is addressed to registrar ${registrar}`,
      );
    const entry = this.#store.get(name);
    const status = nameStatus(entry, this.#now(), this.#o.holdPeriodMs);
    const signer = req.signer.toString();
    if (entry && (status === 'online' || status === 'offline' || status === 'bound')) {
      if (entry.binding.owner === signer) return 'owned';
      throw new RegistryError(
        status === 'offline' ? 'NAME_HELD' : 'NAME_TAKEN',
        status === 'offline'
          ? `"${name}" is offline but stays bound to its owner for the hold period`
          : `"${name}" is bound to another key`,
      );
    }
    if (entry?.releasedAt != null && entry.binding.owner === signer && iat < entry.releasedAt)
      throw new RegistryError(
        'REPLAYED',
        'the claim was signed before its signer released the name',
      );
    return entry;
  }

  async #commit(state: NameState, seq: [string, string, number] | null): Promise<NameEntry> {
    const [entry] = await this.#store.commit({ states: [state], seqs: seq ? [seq] : [] });
    this.onLocalCommit([entry]);
    return entry;
  }

  async claim(
    name: string,
    jws: unknown,
    budget: WriteBudget = UNLIMITED,
  ): Promise<{ created: boolean; body: ClaimResponse }> {
    this.#checkName(name);
    const req = await this.#admission.request(jws, 'claim', name, budget, (r) => {
      this.#checkSeq(r);
      this.#claimable(r);
    });
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#claimable(req);
      if (entry === 'owned') {
        const current = this.#store.get(name)!;
        return { created: false, body: { name, binding: current.state.binding } };
      }
      budget.write(name);
      const now = this.#now();
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

  /** The caller's part of a route record's admission: endpoint, owner, seq. */
  #checkRoute({ route, node }: VerifiedRoute, name: string): void {
    if (route.mode === 'direct') {
      const endpoint = checkEndpoint(route.endpoint, this.#o.developerMode);
      if (!endpoint.ok) throw new RegistryError('INVALID_ENDPOINT', endpoint.reason);
    }
    this.#checkRouteSeq(this.#owned(name, node), route);
  }

  #checkRouteSeq(entry: NameEntry, route: RouteRecord): void {
    if (entry.route && route.seq <= entry.route.seq) {
      throw new RegistryError(
        'STALE_SEQ',
        `seq ${route.seq} is not higher than the current ${entry.route.seq}`,
      );
    }
  }

  async publishRoute(
    name: string,
    jws: unknown,
    budget: WriteBudget = UNLIMITED,
  ): Promise<PublishRouteResponse> {
    const checked = await this.#admission.route(jws, name, budget, (r) =>
      this.#checkRoute(r, name),
    );
    const { route, node } = checked;
    budget.write(name);
    return this.lock.run(name, async () => {
      const entry = this.#owned(name, node);
      this.#checkRouteSeq(entry, route);
      await this.#commit({ ...entry.state, route: jws as string }, null);
      this.#announce(checked);
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

  async release(
    name: string,
    jws: unknown,
    budget: WriteBudget = UNLIMITED,
  ): Promise<{ name: string; released: true }> {
    const ownLine = (r: VerifiedRequest) => {
      this.#checkSeq(r);
      this.#checkLine(this.#owned(name, r.signer), r);
    };
    const req = await this.#admission.request(jws, 'release', name, budget, ownLine);
    budget.write(name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#owned(name, req.signer);
      this.#checkLine(entry, req);
      await this.#commit({ ...entry.state, route: null, offer: null, released: req.jws }, seq);
      return { name, released: true };
    });
  }

  async transfer(
    name: string,
    jws: unknown,
    budget: WriteBudget = UNLIMITED,
  ): Promise<TransferOfferResponse> {
    const newOwner = (r: VerifiedRequest): Id => {
      let to: Id;
      try {
        to = Id.parse(r.request.to ?? '');
      } catch {
        throw new RegistryError('BAD_REQUEST', 'a transfer names the new owner id in "to"');
      }
      if (to.equals(r.signer))
        throw new RegistryError('BAD_REQUEST', 'the new owner is the current owner');
      return to;
    };
    const req = await this.#admission.request(jws, 'transfer', name, budget, (r) => {
      newOwner(r);
      this.#checkSeq(r);
      this.#checkLine(this.#owned(name, r.signer), r);
    });
    const to = newOwner(req);
    budget.write(name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#owned(name, req.signer);
      this.#checkLine(entry, req);
      await this.#commit({ ...entry.state, offer: req.jws }, seq);
      return { name, to: to.toString(), expiresAt: req.request.iat + this.#o.transferTtlMs };
    });
  }

  /** The entry whose pending offer `req` may accept, or NO_PENDING_TRANSFER. */
  #offeredTo(name: string, req: VerifiedRequest): NameEntry {
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
    return entry;
  }

  async acceptTransfer(
    name: string,
    jws: unknown,
    budget: WriteBudget = UNLIMITED,
  ): Promise<ClaimResponse> {
    const req = await this.#admission.request(jws, 'accept-transfer', name, budget, (r) => {
      this.#checkSeq(r);
      this.#offeredTo(name, r);
    });
    budget.write(name);
    return this.lock.run(name, async () => {
      const seq = this.#checkSeq(req);
      const entry = this.#offeredTo(name, req);
      // The line keeps its original boundAt, so the partition rule still ranks it by when it began.
      const binding = await this.#signBinding({
        name,
        owner: req.signer.toString(),
        boundAt: entry.binding.boundAt,
      });
      const transfers = [...entry.state.transfers, { offer: entry.state.offer!, accept: req.jws }];
      await this.#commit({ ...entry.state, binding, transfers, route: null, offer: null }, seq);
      return { name, binding };
    });
  }

  /**
   * A probe request (origin/probe.ts): signed by the owner of `name` here, naming the endpoint to
   * probe, which must be one a direct route record could publish. Same order as the writes: the
   * cheap checks, then the signature (the sender's verification budget), then the name's budget.
   */
  async admitProbe(name: string, jws: unknown, budget: WriteBudget): Promise<URL> {
    const check = (r: VerifiedRequest): URL => {
      this.#owned(name, r.signer);
      const endpoint = checkEndpoint(r.request.endpoint, this.#o.developerMode);
      if (!endpoint.ok) throw new RegistryError('INVALID_ENDPOINT', endpoint.reason);
      return endpoint.url;
    };
    const req = await this.#admission.request(jws, 'probe', name, budget, check);
    budget.write(name);
    return check(req);
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

  /** The names bound to an owner id now (released ones not). */
  namesOf(owner: string): string[] {
    return this.#store.namesOf(owner);
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
