/**
 * DID documents (`did:boson:<id>`): a CBOR "Card" signed by the holder, stored in the DHT as a signed
 * mutable value whose id is the holder's id. Here so that agents (which may run no DHT node) can make
 * and check Cards, and values can cross HTTP as bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { type CborValue, decodeCbor, encodeCbor } from '../cbor/index.ts';
import { err, type Result } from '../errors.ts';
import { SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import { type KeyPair, verifySignature } from '../keys.ts';
import { NONCE_BYTES } from './constants.ts';
import { Value } from './value.ts';
import type { WireValueFields } from './wire.ts';

/** A DID document: `{id, c: credentials, s: services, sat: signed-at (ms), sig}`. */
export interface Card {
  id: Id;
  credentials: CborValue[];
  services: { id: string; type: string; endpoint: string }[];
  signedAt: number;
  signature: Uint8Array;
}

function cardBody(
  id: Id,
  credentials: CborValue[],
  services: Card['services'],
  signedAt: number,
): { [k: string]: CborValue } {
  return {
    id: id.bytes,
    c: credentials,
    s: services.map((s) => ({ id: s.id, t: s.type, e: s.endpoint })),
    sat: signedAt,
  };
}

/** Signs a Card for `key`: the signature covers SHA-256 of the CBOR of {id, c, s, sat}. */
export function createCard(
  key: KeyPair,
  services: Card['services'],
  credentials: CborValue[] = [],
  signedAt = Date.now(),
): Card {
  const digest = sha256(encodeCbor(cardBody(key.id, credentials, services, signedAt)));
  return { id: key.id, credentials, services, signedAt, signature: key.sign(digest) };
}

export function encodeCard(card: Card): Uint8Array {
  return encodeCbor({
    ...cardBody(card.id, card.credentials, card.services, card.signedAt),
    sig: card.signature,
  });
}

/** The Card in `bytes`, or null if it is malformed or its signature fails. */
export function decodeCard(bytes: Uint8Array): Card | null {
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return null;
  const m = decoded.value as Record<string, CborValue>;
  if (
    typeof m !== 'object' ||
    m === null ||
    !(m.id instanceof Uint8Array) ||
    m.id.length !== 32 ||
    !Array.isArray(m.c) ||
    !Array.isArray(m.s)
  )
    return null;
  if (typeof m.sat !== 'number' || !(m.sig instanceof Uint8Array)) return null;
  const services: Card['services'] = [];
  for (const s of m.s) {
    const svc = s as Record<string, CborValue>;
    if (typeof svc?.id !== 'string' || typeof svc.t !== 'string' || typeof svc.e !== 'string')
      return null;
    services.push({ id: svc.id, type: svc.t, endpoint: svc.e });
  }
  const id = new Id(m.id);
  const card: Card = { id, credentials: m.c, services, signedAt: m.sat, signature: m.sig };
  const digest = sha256(encodeCbor(cardBody(id, card.credentials, services, card.signedAt)));
  return verifySignature(id, digest, card.signature) ? card : null;
}

/** A value as bytes (the CBOR of its wire fields), to carry it outside a DHT message. */
export function encodeValue(value: Value): Uint8Array {
  return encodeCbor(value.toWire() as unknown as CborValue);
}

/** The value in `bytes`; checks shape, not the signature (see Value.isValid). Never throws. */
export function decodeValue(bytes: Uint8Array): Result<Value> {
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return decoded;
  const fields = decoded.value as Record<string, CborValue>;
  if (
    !fields ||
    typeof fields !== 'object' ||
    Array.isArray(fields) ||
    fields instanceof Uint8Array
  ) {
    return err(new SharedError('INVALID_RECORD', 'a value is a CBOR map'));
  }
  // The map came from outside: every field must have its wire type before a Value is built of it.
  const bytesOf = (key: string, length?: number) => {
    const v = fields[key];
    return (
      v === undefined || (v instanceof Uint8Array && (length === undefined || v.length === length))
    );
  };
  const seq = fields.seq;
  if (
    !bytesOf('v') ||
    !bytesOf('k', 32) ||
    !bytesOf('rec', 32) ||
    !bytesOf('n', NONCE_BYTES) ||
    !bytesOf('sig', 64) ||
    (seq !== undefined && (typeof seq !== 'number' || !Number.isSafeInteger(seq)))
  ) {
    return err(new SharedError('INVALID_RECORD', 'a value field has the wrong type or length'));
  }
  return Value.fromWire(fields as unknown as WireValueFields);
}
