/**
 * Sign-In with Ethereum (EIP-4361): the node issues single-use nonces; a signed message is accepted
 * only if its domain is the host the request came to, its URI is on that same origin, its nonce is
 * an unused one of ours (consumed here, whatever the outcome), it is within its validity window and
 * the personal_sign signature recovers to the address it names. Smart-contract wallets (EIP-1271)
 * need a chain to ask and are not accepted.
 */
import { randomBytes } from 'node:crypto';
import * as Address from 'ox/Address';
import * as Hex from 'ox/Hex';
import * as PersonalMessage from 'ox/PersonalMessage';
import * as Secp256k1 from 'ox/Secp256k1';
import * as Signature from 'ox/Signature';
import * as Siwe from 'ox/Siwe';
import { CloudError } from '../errors.ts';
import type { Clock } from '../options.ts';
import type { Db } from '../storage/db.ts';

export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LIVE_NONCES = 10_000;
/** How far in the future an Issued At may lie (clock skew between wallet and node). */
const SKEW_MS = 5 * 60_000;

export class SiweVerifier {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly nonceTtlMs: number,
  ) {}

  issueNonce(): { nonce: string; expiresAt: number } {
    const nonce = randomBytes(16).toString('hex');
    const expiresAt = this.clock.now() + this.nonceTtlMs;
    this.db.run('DELETE FROM nonces WHERE expires < ?', this.clock.now());
    // Outstanding nonces are bounded, so asking for them in a loop cannot fill the disk.
    const live = this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM nonces')!.n;
    if (live >= MAX_LIVE_NONCES)
      throw new CloudError(
        'RATE_LIMITED',
        'too many sign-ins in progress; try again in a few minutes',
      );
    this.db.run('INSERT INTO nonces (nonce, expires) VALUES (?, ?)', nonce, expiresAt);
    return { nonce, expiresAt };
  }

  /** Returns the checksummed address that signed `message` for `origin`, or throws INVALID_SIGNATURE. */
  verify(message: unknown, signature: unknown, origin: URL): string {
    if (typeof message !== 'string' || message.length === 0 || message.length > MAX_MESSAGE_BYTES) {
      throw new CloudError(
        'BAD_REQUEST',
        `"message" must be an EIP-4361 message of at most ${MAX_MESSAGE_BYTES} characters`,
      );
    }
    if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      throw new CloudError('BAD_REQUEST', '"signature" must be a 65-byte hex signature (0x…)');
    }
    const fields = Siwe.parseMessage(message);
    const bad = (why: string): never => {
      throw new CloudError('INVALID_SIGNATURE', `sign-in refused: ${why}`);
    };
    if (!fields.address || !fields.domain || !fields.uri || !fields.nonce || !fields.version)
      bad('not an EIP-4361 message');
    // The nonce is spent before anything else is checked, so a message can never be tried twice.
    const spent = this.db.changes(
      'DELETE FROM nonces WHERE nonce = ? AND expires >= ?',
      fields.nonce!,
      this.clock.now(),
    );
    if (spent !== 1) bad('unknown, used or expired nonce');
    if (fields.domain !== origin.host)
      bad(`the message is for "${fields.domain}", this node is "${origin.host}"`);
    let uri: URL | undefined;
    try {
      uri = new URL(fields.uri!);
    } catch {
      bad('URI is not a URL');
    }
    if (uri!.origin !== origin.origin) bad(`the URI must be on ${origin.origin}`);
    if (fields.scheme && `${fields.scheme}:` !== origin.protocol) bad('scheme does not match');
    const now = new Date(this.clock.now());
    if (
      !Siwe.validateMessage({
        message: fields,
        domain: origin.host,
        nonce: fields.nonce,
        time: now,
      })
    )
      bad('expired, not yet valid, or malformed');
    if (!fields.issuedAt || Number.isNaN(fields.issuedAt.getTime())) bad('Issued At is required');
    if (fields.issuedAt!.getTime() > now.getTime() + SKEW_MS) bad('Issued At is in the future');
    if (fields.issuedAt!.getTime() < now.getTime() - this.nonceTtlMs - SKEW_MS)
      bad('Issued At is too old');
    let signer: string;
    try {
      signer = Secp256k1.recoverAddress({
        payload: PersonalMessage.getSignPayload(Hex.fromString(message)),
        signature: Signature.fromHex(signature as `0x${string}`),
      });
    } catch {
      return bad('the signature does not recover');
    }
    if (!Address.isEqual(signer as Address.Address, fields.address!))
      bad('the signature is not from the address in the message');
    return Address.checksum(signer);
  }
}

/** Checks and checksums a wallet address given by a user (e.g. a member to add). */
export function parseAddress(value: unknown): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new CloudError('BAD_REQUEST', 'a wallet address is 0x followed by 40 hex digits');
  }
  const mixed = /[a-f]/.test(value.slice(2)) && /[A-F]/.test(value.slice(2));
  if (mixed && Address.checksum(value) !== value)
    throw new CloudError('BAD_REQUEST', 'the address has a wrong EIP-55 checksum');
  return Address.checksum(value);
}
