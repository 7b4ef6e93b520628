/**
 * Name binding: issued once by the registrar that accepted a claim, signed with the registrar's key.
 * Registrar keys are the edge's trust anchors.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import { compareBytes, Id } from '../id.ts';
import type { KeyPair } from '../keys.ts';
import { signJws, verifyJws } from './jws.ts';
import { NAME_PATTERN } from './names.ts';

export const BINDING_TYP = 'pc2-binding';

export interface NameBinding {
  v: 1;
  name: string;
  /** Owner's id (Base58). */
  owner: string;
  /** When the registrar bound the name, ms since the epoch. */
  boundAt: number;
  /** Registrar's id (Base58); the JWS signer. */
  registrar: string;
}

export interface VerifiedBinding {
  binding: NameBinding;
  owner: Id;
  registrar: Id;
  jws: string;
}

export function signBinding(
  binding: Omit<NameBinding, 'v' | 'registrar'>,
  registrar: KeyPair,
): Promise<string> {
  const payload: NameBinding = { v: 1, ...binding, registrar: registrar.id.toString() };
  return signJws(payload, registrar, BINDING_TYP);
}

function invalid(message: string): Result<never> {
  return err(new SharedError('INVALID_RECORD', `name binding: ${message}`));
}

/** Verifies a binding JWS and that its signer is one of the trusted registrars. Never throws. */
export async function verifyBinding(
  jws: unknown,
  trustedRegistrars: readonly Id[],
): Promise<Result<VerifiedBinding>> {
  const verified = await verifyJws<NameBinding>(jws, BINDING_TYP);
  if (!verified.ok) return verified;
  const { payload: b, signer } = verified.value;
  if (!b || typeof b !== 'object' || b.v !== 1) return invalid('unknown version');
  if (typeof b.name !== 'string' || !NAME_PATTERN.test(b.name)) return invalid('bad name');
  if (!Number.isSafeInteger(b.boundAt) || b.boundAt <= 0) return invalid('bad boundAt');
  let owner: Id;
  try {
    owner = Id.parse(b.owner);
  } catch {
    return invalid('bad owner id');
  }
  if (b.registrar !== signer.toString()) return invalid('registrar is not the signer');
  if (!trustedRegistrars.some((r) => r.equals(signer))) {
    return err(new SharedError('WRONG_SIGNER', `registrar ${signer} is not trusted`));
  }
  return ok({ binding: b, owner, registrar: signer, jws: jws as string });
}

/**
 * The partition rule, the same everywhere: the earliest boundAt wins, ties go to the smaller
 * registrar id. Returns a negative number when `a` wins.
 */
export function compareBindings(a: NameBinding, b: NameBinding): number {
  if (a.boundAt !== b.boundAt) return a.boundAt - b.boundAt;
  return compareBytes(Id.parse(a.registrar).bytes, Id.parse(b.registrar).bytes);
}
