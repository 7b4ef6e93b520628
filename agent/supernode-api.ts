/** The small calls an agent makes to a super node besides the registry: info, probe, binding wait. */
import { fromBase64Url, toBase64Url } from '../shared/bytes.ts';
import { type Card, createCard, decodeValue, encodeCard, encodeValue } from '../shared/dht/card.ts';
import { Value } from '../shared/dht/value.ts';
import type { Id } from '../shared/id.ts';
import type { KeyPair } from '../shared/keys.ts';
import type { Logger } from '../shared/logger.ts';
import { CARD_SERVICES } from '../shared/records/api.ts';
import type { NameBinding } from '../shared/records/binding.ts';
import { decodeJwsPayload } from '../shared/records/request.ts';
import {
  type DhtValueBody,
  dhtValuePath,
  probePath,
  type ProbeResponse,
  type SuperNodeInfo,
  supernodeInfoPath,
} from '../shared/records/api.ts';
import { type RegistryClient } from './registry-client.ts';

async function getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body as T;
}

export function fetchSuperNodeInfo(baseUrl: string): Promise<SuperNodeInfo> {
  return getJson<SuperNodeInfo>(baseUrl + supernodeInfoPath).catch((e: Error) => {
    throw new Error(
      `super node ${baseUrl} unreachable: ${(e as { cause?: { code?: string } }).cause?.code ?? e.message}`,
    );
  });
}

/** Asks the registry's super node to connect back to `endpoint`: a request signed as the owner of `name`. */
export async function probeEndpoint(
  registry: RegistryClient,
  name: string,
  endpoint: string,
): Promise<ProbeResponse> {
  const request = await registry.signRequest('probe', name, { endpoint });
  return getJson(registry.url + probePath, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request }),
  });
}

/**
 * Resolves once the super node holds a binding of `name` to `owner`, or at once when `signal` aborts
 * (the agent stopped: its super nodes may be gone, and polling them would keep the process alive).
 */
export async function waitForBinding(
  registry: RegistryClient,
  name: string,
  owner: Id,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) return;
    try {
      const resolved = await registry.resolve(name);
      if (decodeJwsPayload<NameBinding>(resolved.binding).owner === owner.toString()) return;
    } catch {
      /* not there yet */
    }
    if (Date.now() > deadline) throw new Error(`binding of ${name} not visible at ${registry.url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Stores the node's DID document (a Card with its public URL and current route record) in the DHT
 * through a super node, as the next version of whatever value the DHT holds for the node's id.
 */
export async function publishNodeCard(
  baseUrl: string,
  key: KeyPair,
  services: Card['services'],
): Promise<void> {
  const url = baseUrl + dhtValuePath(key.id.toString());
  const data = encodeCard(createCard(key, services));
  let previous: Value | null = null;
  const current = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => null);
  if (current?.ok) {
    const decoded = decodeValue(fromBase64Url(((await current.json()) as DhtValueBody).value));
    if (decoded.ok && decoded.value.isMutable && decoded.value.publicKey?.equals(key.id))
      previous = decoded.value;
  } else {
    await current?.body?.cancel();
  }
  const value = previous ? previous.update(key, data) : Value.createSigned(key, data);
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: toBase64Url(encodeValue(value)) } satisfies DhtValueBody),
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`${baseUrl}: DHT store answered ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/**
 * The node's DID document (public URL and current route) stored through the first of `via` (super
 * node URLs) that takes it. Best effort: failures are logged at debug level.
 */
export async function publishNodeCardVia(
  via: readonly string[],
  key: KeyPair,
  routeJws: string,
  publicUrl: string | null | undefined,
  logger: Logger,
): Promise<void> {
  const services: Card['services'] = [
    { id: '#route', type: CARD_SERVICES.route, endpoint: routeJws },
  ];
  if (publicUrl) services.unshift({ id: '#pc2', type: CARD_SERVICES.node, endpoint: publicUrl });
  for (const url of via) {
    try {
      await publishNodeCard(url, key, services);
      logger.debug('DID document stored in the DHT', { via: url });
      return;
    } catch (e) {
      logger.debug('DID document not stored', { via: url, error: (e as Error).message });
    }
  }
}
