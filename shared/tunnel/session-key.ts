/** Session key pairs: fresh X25519 keys per Active Proxy session (not derived from any identity). */
import { x25519 } from '@noble/curves/ed25519.js';
import { CryptoContext } from '../crypto/context.ts';

export interface SessionKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function newSessionKeyPair(): SessionKeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { secretKey, publicKey };
}

/** The session context between our session secret and the other side's session public key. */
export function sessionContext(ours: SessionKeyPair, theirPublicKey: Uint8Array): CryptoContext {
  return CryptoContext.between(ours.secretKey, theirPublicKey);
}
