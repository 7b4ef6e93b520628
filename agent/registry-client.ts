/**
 * The node's side of the registry API: signs each request with the node key and returns the typed
 * answer, or throws an AgentError carrying the server's stable error code and HTTP status.
 */
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import {
  atLeast,
  checkOptions,
  instance,
  nonEmptyString,
  object,
  type Rules,
  withDefault,
} from '../shared/options.ts';
import {
  type AvailabilityResponse,
  type ClaimResponse,
  type ErrorBody,
  type HealthResponse,
  type OwnerNamesResponse,
  type PublishRouteResponse,
  type RegistrarResponse,
  registryOpPaths,
  registryPaths,
  type ResolveResponse,
  type TransferOfferResponse,
} from '../shared/records/api.ts';
import { decodeJwsPayload, type RegistryOp, signRequest } from '../shared/records/request.ts';
import type { NameBinding } from '../shared/records/binding.ts';
import { MAX_LEASE_MS, type RouteMode, type RouteTls, signRoute } from '../shared/records/route.ts';
import { AgentError, type AgentErrorCode } from './errors.ts';

export interface RegistryClientOptions {
  /** Base URL of a super node's registry API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  key: KeyPair;
  clock?: { now(): number };
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
}

export interface PublishRouteInput {
  name: string;
  mode: RouteMode;
  endpoint?: string;
  relays?: string[];
  /** `'node'`: this node terminates TLS itself (a private name; shared/records/route.ts). */
  tls?: RouteTls;
  /** Lease length. Default 10 minutes (at most 24 h). */
  ttlMs?: number;
  /** Default: the next value of the client's increasing counter. */
  seq?: number;
  /** Ask to be listed by name on the zone's network map. Default false (left out of the record). */
  listed?: boolean;
}

const CLIENT_OPTIONS = {
  url: nonEmptyString,
  key: instance(KeyPair),
  clock: withDefault(object<{ now(): number }>(), { now: () => Date.now() }),
  timeoutMs: withDefault(atLeast(1), 10_000),
} satisfies Rules<RegistryClientOptions>;

export class RegistryClient {
  readonly url: string;
  readonly key: KeyPair;
  readonly #clock: { now(): number };
  readonly #timeoutMs: number;
  #lastSeq = 0;
  #registrar: Promise<string> | null = null;

  constructor(options: RegistryClientOptions) {
    const o = checkOptions(
      options,
      CLIENT_OPTIONS,
      'RegistryClient options',
      (message) => new AgentError('INVALID_OPTIONS', message),
    );
    this.url = o.url.replace(/\/+$/, '');
    this.key = o.key;
    this.#clock = o.clock;
    this.#timeoutMs = o.timeoutMs;
  }

  /** Clock-based, so it keeps increasing across restarts of the node; +1 when called twice in a ms. */
  nextSeq(): number {
    this.#lastSeq = Math.max(this.#clock.now(), this.#lastSeq + 1);
    return this.#lastSeq;
  }

  signRequest(
    op: RegistryOp,
    name: string,
    extra: {
      to?: string;
      from?: string;
      boundAt?: number;
      registrar?: string;
      endpoint?: string;
    } = {},
  ): Promise<string> {
    return signRequest(
      { op, name, seq: this.nextSeq(), iat: this.#clock.now(), ...extra },
      this.key,
    );
  }

  async #call<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw new AgentError('NETWORK', `registry ${this.url} unreachable: ${(e as Error).message}`, {
        cause: e,
      });
    }
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch {
      throw new AgentError('BAD_RESPONSE', `registry answered ${res.status} without JSON`, {
        status: res.status,
      });
    }
    if (!res.ok) {
      const error = (parsed as Partial<ErrorBody>)?.error;
      throw new AgentError(
        (error?.code ?? 'BAD_RESPONSE') as AgentErrorCode,
        String(error?.message ?? `HTTP ${res.status}`),
        { status: res.status },
      );
    }
    return { status: res.status, body: parsed as T };
  }

  /** This registry's registrar id (a claim is addressed to it); asked once. */
  registrarId(): Promise<string> {
    this.#registrar ??= this.registrar().then(
      (r) => r.id,
      (e: unknown) => {
        this.#registrar = null;
        throw e;
      },
    );
    return this.#registrar;
  }

  async claim(name: string): Promise<ClaimResponse & { created: boolean }> {
    const registrar = await this.registrarId();
    const { status, body } = await this.#call<ClaimResponse>('POST', registryOpPaths.claim(name), {
      request: await this.signRequest('claim', name, { registrar }),
    });
    return { ...body, created: status === 201 };
  }

  async publishRoute(input: PublishRouteInput): Promise<PublishRouteResponse> {
    return this.publishSignedRoute(input.name, await this.signRouteRecord(input));
  }

  /** A route record JWS signed by this client's key (to publish at several super nodes alike). */
  signRouteRecord(input: PublishRouteInput): Promise<string> {
    const iat = this.#clock.now();
    const ttl = Math.min(input.ttlMs ?? 600_000, MAX_LEASE_MS);
    return signRoute(
      {
        name: input.name,
        mode: input.mode,
        endpoint: input.endpoint,
        relays: input.relays ?? [],
        tls: input.tls,
        seq: input.seq ?? this.nextSeq(),
        iat,
        exp: iat + ttl,
        ...(input.listed ? { listed: true } : {}),
      },
      this.key,
    );
  }

  async publishSignedRoute(name: string, route: string): Promise<PublishRouteResponse> {
    return (await this.#call<PublishRouteResponse>('PUT', registryOpPaths.route(name), { route }))
      .body;
  }

  /** The boundAt of the name's current binding at this registry (release and transfer sign it). */
  async #boundAt(name: string): Promise<number> {
    return decodeJwsPayload<NameBinding>((await this.resolve(name)).binding).boundAt;
  }

  /** Releases the name; `boundAt` defaults to the current binding's (one resolve first). */
  async release(name: string, boundAt?: number): Promise<{ name: string; released: true }> {
    const request = await this.signRequest('release', name, {
      boundAt: boundAt ?? (await this.#boundAt(name)),
    });
    return (
      await this.#call<{ name: string; released: true }>('POST', registryOpPaths.release(name), {
        request,
      })
    ).body;
  }

  async transfer(
    name: string,
    newOwner: Id | string,
    boundAt?: number,
  ): Promise<TransferOfferResponse> {
    const to = typeof newOwner === 'string' ? Id.parse(newOwner).toString() : newOwner.toString();
    const request = await this.signRequest('transfer', name, {
      to,
      boundAt: boundAt ?? (await this.#boundAt(name)),
    });
    return (
      await this.#call<TransferOfferResponse>('POST', registryOpPaths.transfer(name), { request })
    ).body;
  }

  /** Run with the new owner's key: accepts a pending transfer (optionally pinning the current owner). */
  async acceptTransfer(name: string, from?: Id | string): Promise<ClaimResponse> {
    const request = await this.signRequest(
      'accept-transfer',
      name,
      from === undefined ? {} : { from: from.toString() },
    );
    return (
      await this.#call<ClaimResponse>('POST', registryOpPaths.acceptTransfer(name), { request })
    ).body;
  }

  async resolve(name: string): Promise<ResolveResponse> {
    return (await this.#call<ResolveResponse>('GET', registryPaths.resolve(name))).body;
  }

  /** The names bound to `owner` (default: this client's key) at this registry. */
  async namesOf(owner: Id | string = this.key.id): Promise<OwnerNamesResponse> {
    return (await this.#call<OwnerNamesResponse>('GET', registryPaths.ownerNames(owner.toString())))
      .body;
  }

  async available(name: string): Promise<AvailabilityResponse> {
    return (await this.#call<AvailabilityResponse>('GET', registryPaths.available(name))).body;
  }

  async health(): Promise<HealthResponse> {
    return (await this.#call<HealthResponse>('GET', registryPaths.health)).body;
  }

  async registrar(): Promise<RegistrarResponse> {
    return (await this.#call<RegistrarResponse>('GET', registryPaths.registrar)).body;
  }
}
