/**
 * What the fuzzers feed: every decoder that reads bytes or text from the network, with valid inputs
 * to mutate (seeds) and the decoder's contract. A decoder returns an error value for bad input and
 * never throws (docs/shared-core.md); those whose contract is a typed error (the registry's body
 * reader throws RegistryError, JSON.parse a SyntaxError) list what they may throw. Anything else
 * thrown is a finding. Some add an oracle: a DNS answer is always a DNS message with the query's id.
 */
import dnsPacket from 'dns-packet';
import messages from '../vectors/boson3-messages.json' with { type: 'json' };
import { fromHex, utf8Encode } from '../../shared/bytes.ts';
import { decodeCbor, definite, encodeCbor, indefinite } from '../../shared/cbor/index.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import {
  createCard,
  decodeCard,
  decodeValue,
  encodeCard,
  encodeValue,
} from '../../shared/dht/card.ts';
import { decodeMessage, fromWireMessage } from '../../shared/dht/index.ts';
import { Value } from '../../shared/dht/value.ts';
import type { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { signBinding } from '../../shared/records/binding.ts';
import { signEdgeToken, verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { readUnverified, verifyJws } from '../../shared/records/jws.ts';
import {
  checkRequest,
  REQUEST_TYP,
  type RegistryRequest,
  signRequest,
} from '../../shared/records/request.ts';
import {
  checkRoute,
  ROUTE_TYP,
  type RouteRecord,
  signRoute,
  verifyResolution,
} from '../../shared/records/route.ts';
import {
  decodeChallenge,
  decodeFrame,
  encodeAttach,
  encodeAuth,
  encodeChallenge,
  encodeConnect,
  encodeConnectAck,
  encodeData,
  encodeEmpty,
  encodeError,
  FrameReader,
  newChallenge,
  newSessionKeyPair,
  sessionContext,
} from '../../shared/tunnel/index.ts';
import { verifyJwsNative } from '../../origin/registry/native-jws.ts';
import { RegistryError } from '../../origin/registry/errors.ts';
import { verifyState } from '../../origin/registry/merge.ts';
import { writeBodyField } from '../../origin/registry/write-ops.ts';
import { Responder } from '../../origin/zone/responder.ts';
import { readQuery } from '../../origin/zone/wire.ts';
import { queryPacket, sampleView, ZONE } from '../zone/helpers.ts';

export interface FuzzTarget<I extends Uint8Array | string = Uint8Array | string> {
  name: string;
  /** What the decoder is, in the report. */
  what: string;
  seeds: I[];
  /** Feeds one input; returns whether the decoder accepted it. Throws only on a finding. */
  run(input: I): boolean | Promise<boolean>;
}

const registrar = KeyPair.generate();
const owner = KeyPair.generate();
const now = Date.now();

/** An error a decoder's contract allows it to throw (the caller maps it to a clear error). */
export function allowedThrow(e: unknown): boolean {
  return e instanceof RegistryError || e instanceof SyntaxError;
}

async function cborTarget(): Promise<FuzzTarget<Uint8Array>> {
  const values = [
    indefinite({ a: 1, b: [1, 2, 3], c: utf8Encode('bytes'), d: -1n << 63n }),
    definite([1.5, -0, Number.NaN, null, true, 'text', 2n ** 64n - 1n]),
    { nested: { deeper: { deepest: [[[[1]]]] } } },
  ];
  return {
    name: 'cbor',
    what: 'shared/cbor decodeCbor',
    seeds: [...values.map((v) => encodeCbor(v as never)), ...dhtSeeds()],
    run: (input) => decodeCbor(input).ok,
  };
}

function dhtSeeds(): Uint8Array[] {
  return (messages as { vectors: { cborHex: string }[] }).vectors.map((v) => fromHex(v.cborHex));
}

async function dhtMessageTarget(): Promise<FuzzTarget<Uint8Array>> {
  return {
    name: 'dht-message',
    what: "shared/dht decodeMessage + fromWireMessage (the DHT node's UDP input)",
    seeds: dhtSeeds(),
    run(input) {
      const wire = decodeMessage(input);
      return wire.ok && fromWireMessage(wire.value).ok;
    },
  };
}

async function dhtValueTarget(): Promise<FuzzTarget<Uint8Array>> {
  const card = createCard(owner, [
    { id: '#route', type: 'PC2Route', endpoint: 'x'.repeat(200) },
    { id: '#pc2', type: 'PC2Node', endpoint: 'https://alice.ela.city' },
  ]);
  const value = Value.createSigned(owner, encodeCard(card));
  let n = 0;
  return {
    name: 'dht-value',
    what: 'shared/dht decodeValue + decodeCard, the signature 1 in 8 (PUT /api/v1/dht/values)',
    seeds: [encodeValue(value), encodeValue(value.update(owner, encodeCard(card)))],
    run(input) {
      const decoded = decodeValue(input);
      if (!decoded.ok) return false;
      const card = decodeCard(decoded.value.data);
      // The signature (Ed25519, the slow part, not a parser) for 1 in 8 of what decodes.
      return (n++ % 8 !== 0 || decoded.value.isValid()) && card !== null;
    },
  };
}

async function tunnelTarget(): Promise<FuzzTarget<Uint8Array>> {
  const device = KeyPair.generate();
  const service = KeyPair.generate();
  const clientPeer = CryptoContext.between(device.x25519SecretKey, service.x25519PublicKey);
  const serverPeer = CryptoContext.between(service.x25519SecretKey, device.x25519PublicKey);
  const clientKeys = newSessionKeyPair();
  const serverKeys = newSessionKeyPair();
  const client = sessionContext(clientKeys, serverKeys.publicKey);
  const server = sessionContext(serverKeys, clientKeys.publicKey);
  const signature = device.sign(utf8Encode('challenge'));
  const seeds = [
    encodeChallenge(newChallenge()),
    encodeAuth(clientPeer, {
      deviceId: device.id,
      version: 1,
      userId: device.id,
      sessionKey: clientKeys.publicKey,
      nameAccess: 1,
      signature,
      maxDataBytes: 65_492,
    }),
    encodeAttach(clientPeer, { deviceId: device.id, sessionKey: clientKeys.publicKey, signature }),
    encodeEmpty('PING'),
    encodeEmpty('DISCONNECT'),
    encodeConnect(client, { address: new Uint8Array([127, 0, 0, 1]), port: 4200 }),
    encodeConnectAck(true),
    encodeData(client, utf8Encode('GET / HTTP/1.1\r\nHost: alice\r\n\r\n')),
    encodeData(client, new Uint8Array(2000)),
    encodeError(client, { code: 3, message: 'a reason' }),
  ];
  // The server's reader: whole frames out of a byte stream, then each decoded with its contexts.
  return {
    name: 'tunnel-frame',
    what: "shared/tunnel FrameReader + decodeFrame + decodeChallenge (the tunnel server's TCP input)",
    seeds,
    run(input) {
      decodeChallenge(input);
      const frames = new FrameReader(3).push(input);
      if (!frames.ok) return false;
      let all = true;
      for (const frame of frames.value) {
        const keys = {
          session: server,
          peerFor: (id: Id) => (id.equals(device.id) ? serverPeer : null),
        };
        all = decodeFrame(frame, keys).ok && all;
      }
      return all && frames.value.length > 0;
    },
  };
}

async function requestSeeds(): Promise<string[]> {
  const base = { name: 'alice', seq: now, iat: now };
  return Promise.all([
    signRequest({ ...base, op: 'claim', registrar: registrar.id.toString() }, owner),
    signRequest({ ...base, op: 'release', boundAt: now - 1000 }, owner),
    signRequest({ ...base, op: 'transfer', to: registrar.id.toString(), boundAt: now }, owner),
    signRequest({ ...base, op: 'accept-transfer', from: owner.id.toString() }, registrar),
    signRequest({ ...base, op: 'probe', endpoint: 'https://alice.example.org:8443/' }, owner),
  ]);
}

async function jwsTarget(): Promise<FuzzTarget<string>> {
  let n = 0;
  return {
    name: 'jws-request',
    what: 'registry requests: readUnverified + checkRequest, verifyJwsNative (every input), jose verifyJws (1 in 8)',
    seeds: await requestSeeds(),
    async run(input) {
      checkRequest(readUnverified<RegistryRequest>(input, REQUEST_TYP), input);
      const verified = checkRequest(
        await verifyJwsNative<RegistryRequest>(input, REQUEST_TYP),
        input,
      );
      if (n++ % 8 === 0) await verifyJws(input, REQUEST_TYP);
      return verified.ok;
    },
  };
}

async function routeSeeds(): Promise<string[]> {
  const lease = { seq: now, iat: now, exp: now + 600_000 };
  return Promise.all([
    signRoute({ name: 'alice', mode: 'relay', relays: [registrar.id.toString()], ...lease }, owner),
    signRoute(
      {
        name: 'alice',
        mode: 'direct',
        endpoint: 'https://alice.example.org',
        relays: [],
        ...lease,
      },
      owner,
    ),
  ]);
}

async function routeTarget(): Promise<FuzzTarget<string>> {
  const binding = await signBinding(
    { name: 'alice', owner: owner.id.toString(), boundAt: now - 1000 },
    registrar,
  );
  let n = 0;
  return {
    name: 'route-record',
    what: "route records: checkRoute on readUnverified and on verifyJwsNative; the edge's verifyResolution (jose, 1 in 8)",
    seeds: await routeSeeds(),
    async run(input) {
      checkRoute(readUnverified<RouteRecord>(input, ROUTE_TYP), input);
      const verified = checkRoute(await verifyJwsNative<RouteRecord>(input, ROUTE_TYP), input);
      if (n++ % 8 === 0)
        await verifyResolution({ name: 'alice', binding, route: input }, [registrar.id], now);
      return verified.ok;
    },
  };
}

async function edgeTokenTarget(): Promise<FuzzTarget<string>> {
  const edge = KeyPair.generate();
  const node = KeyPair.generate().id;
  return {
    name: 'edge-token',
    what: "shared/records verifyEdgeToken (the ingress's x-pc2-edge-token)",
    seeds: [await signEdgeToken(edge, node, registrar.id, now)],
    async run(input) {
      return (await verifyEdgeToken(input, [edge.id], registrar.id, now)).ok;
    },
  };
}

async function bodyTarget(): Promise<FuzzTarget<string>> {
  const [claim, release] = await requestSeeds();
  const [route] = await routeSeeds();
  const binding = await signBinding(
    { name: 'alice', owner: owner.id.toString(), boundAt: now - 1000 },
    registrar,
  );
  const state = {
    name: 'alice',
    binding,
    origin: binding,
    transfers: [],
    route,
    released: null,
    offer: null,
    previous: null,
  };
  let n = 0;
  return {
    name: 'registry-body',
    what: "the registry's JSON bodies: writeBodyField (writes, probe), replication pushes through verifyState (1 in 4)",
    seeds: [
      JSON.stringify({ request: claim }),
      JSON.stringify({ route }),
      JSON.stringify({ request: release }),
      JSON.stringify({ items: [state, { ...state, released: release }] }),
    ],
    async run(input) {
      let accepted = false;
      for (const field of ['request', 'route'] as const) {
        try {
          accepted = typeof writeBodyField(input, field) === 'string' || accepted;
        } catch (e) {
          if (!(e instanceof RegistryError)) throw e;
        }
      }
      if (n++ % 4 === 0 && input.includes('items')) {
        let items: unknown;
        try {
          items = (JSON.parse(input) as { items?: unknown })?.items;
        } catch (e) {
          if (!(e instanceof SyntaxError)) throw e;
        }
        if (Array.isArray(items))
          for (const item of items.slice(0, 4))
            accepted = (await verifyState(item, [registrar.id])).ok || accepted;
      }
      return accepted;
    },
  };
}

async function dnsTarget(): Promise<FuzzTarget<Uint8Array>> {
  const { view } = await sampleView(now);
  const responder = new Responder({
    view: () => view,
    rateLimit: false,
    slip: 2,
    amplificationFactor: 4,
    now: () => now,
  });
  const names = [
    ZONE,
    `alice.${ZONE}`,
    `_acme-challenge.${ZONE}`,
    `ns1.${ZONE}`,
    'elsewhere.example',
  ];
  const seeds = names.flatMap((name, i) =>
    (['A', 'AAAA', 'TXT', 'SOA', 'NS', 'CAA'] as const).map((type, j) =>
      queryPacket(name, type, {
        id: i * 16 + j,
        edns: j % 2 === 0,
        cookie: j === 2 ? Buffer.alloc(8, 7) : undefined,
      }),
    ),
  );
  let n = 0;
  return {
    name: 'dns',
    what: "origin/zone readQuery + Responder.respond over UDP and TCP (an answer must be a DNS message with the query's id)",
    seeds,
    run(input) {
      readQuery(input);
      const out = responder.respond(input, n++ % 4 === 0 ? 'tcp' : 'udp', '198.51.100.7');
      if (!out) return false;
      const answer = dnsPacket.decode(Buffer.from(out));
      if (answer.id !== ((input[0] << 8) | input[1]))
        throw new Error(`answer id ${answer.id} is not the query's`);
      return true;
    },
  };
}

/** Every target, built (keys, signatures, the DNS view). */
export async function fuzzTargets(): Promise<FuzzTarget[]> {
  return Promise.all([
    cborTarget(),
    dhtMessageTarget(),
    dhtValueTarget(),
    tunnelTarget(),
    jwsTarget(),
    routeTarget(),
    edgeTokenTarget(),
    bodyTarget(),
    dnsTarget(),
  ]) as Promise<FuzzTarget[]>;
}
