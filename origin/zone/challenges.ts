/**
 * Publishing `_acme-challenge` TXT values. A name's owner publishes with a publication its own key
 * signed (`PUT /api/v1/zone/challenges/:name`); nobody else can put values under a name. The super
 * node publishes the apex's values itself, for the zone's certificate. Either way the publication
 * is stored durably and pushed to every peer before the call returns.
 */
import { signChallenge, verifyChallenge } from '../../shared/records/challenge.ts';
import { RateLimiter } from '../registry/rate-limit.ts';
import { ZoneError } from './errors.ts';
import type { ResolvedZoneOptions } from './options.ts';
import { challengeKey, verifyItem, type ZoneRecord } from './records.ts';
import type { ZoneStore } from './store.ts';

export interface PublishResult {
  name: string;
  values: string[];
  exp: number;
  /** Super nodes that hold the publication now (this one and the peers that took the push). */
  servedBy: string[];
}

export class Challenges {
  readonly #o: ResolvedZoneOptions;
  readonly #store: ZoneStore;
  readonly #commit: (record: ZoneRecord) => Promise<string[]>;
  readonly #perName: RateLimiter;
  #apexSeq = 0;

  constructor(
    options: ResolvedZoneOptions,
    store: ZoneStore,
    commit: (record: ZoneRecord) => Promise<string[]>,
  ) {
    this.#o = options;
    this.#store = store;
    this.#commit = commit;
    this.#perName = new RateLimiter(
      options.publishesPerNamePerMin / 60,
      options.publishesPerNamePerMin,
    );
  }

  /** An owner's signed publication for `name`. Throws ZoneError. */
  async publishSigned(name: string, jws: unknown): Promise<PublishResult> {
    const checked = await verifyChallenge(jws);
    if (!checked.ok)
      throw new ZoneError(
        checked.error.code === 'INVALID_SIGNATURE' ? 'INVALID_SIGNATURE' : 'INVALID_RECORD',
        checked.error.message,
      );
    const { publication: p, signer } = checked.value;
    const now = this.#o.clock.now();
    if (p.zone !== this.#o.zone)
      throw new ZoneError(
        'INVALID_RECORD',
        `the publication is for zone ${p.zone}, this is ${this.#o.zone}`,
      );
    if (p.name !== name)
      throw new ZoneError('INVALID_RECORD', 'the publication is for another name');
    if (Math.abs(p.iat - now) > this.#o.clockSkewMs)
      throw new ZoneError(
        'CLOCK_SKEW',
        `issued-at is more than ${this.#o.clockSkewMs} ms from this super node's clock`,
      );
    if (p.exp <= now) throw new ZoneError('INVALID_RECORD', 'the publication has already expired');
    const owner = this.#o.registry.currentOwner(name);
    const binding = this.#o.registry.binding(name);
    if (!owner || !binding) throw new ZoneError('NOT_FOUND', `"${name}" is not registered`);
    if (owner !== signer.toString())
      throw new ZoneError('NOT_OWNER', `"${name}" belongs to another key`);
    if (!this.#perName.take(name, now))
      throw new ZoneError('RATE_LIMITED', `too many publications for "${name}"`);
    const item = await verifyItem(
      { jws, binding },
      { zone: this.#o.zone, trusted: this.#o.trusted },
    );
    if (!item.ok) throw new ZoneError('INVALID_RECORD', item.reason);
    const known = this.#store.get(challengeKey(name, signer));
    if (known && known.record.kind === 'challenge' && p.seq <= known.record.payload.seq) {
      throw new ZoneError(
        'REPLAYED',
        'seq is not higher than the last publication of this key for this name',
      );
    }
    return { name, values: p.values, exp: p.exp, servedBy: await this.#commitOrLimit(item.record) };
  }

  /** This super node's values for `_acme-challenge.<zone>` (replacing its previous ones); [] withdraws them. */
  async publishApex(values: string[], lifetimeMs: number): Promise<PublishResult> {
    const now = this.#o.clock.now();
    this.#apexSeq = Math.max(now, this.#apexSeq + 1);
    const jws = await signChallenge(
      { zone: this.#o.zone, name: '', values, seq: this.#apexSeq, iat: now, exp: now + lifetimeMs },
      this.#o.key,
    );
    const item = await verifyItem({ jws }, { zone: this.#o.zone, trusted: this.#o.trusted });
    if (!item.ok) throw new ZoneError('INVALID_RECORD', item.reason);
    return {
      name: '',
      values,
      exp: now + lifetimeMs,
      servedBy: await this.#commitOrLimit(item.record),
    };
  }

  async #commitOrLimit(record: ZoneRecord): Promise<string[]> {
    try {
      return await this.#commit(record);
    } catch (e) {
      if (e instanceof RangeError) throw new ZoneError('LIMIT_REACHED', e.message);
      throw e;
    }
  }
}
