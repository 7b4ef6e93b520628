/**
 * Recovery phrase: the 32-byte Ed25519 seed as a 24-word BIP39 mnemonic (English list). The phrase is
 * the key: restoring it gives back exactly the same key pair, id and DID.
 */
import { entropyToMnemonic, mnemonicToEntropy, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { KeyPair } from '../shared/keys.ts';
import { AgentError } from './errors.ts';

export function recoveryPhrase(key: KeyPair): string {
  return entropyToMnemonic(key.seed, wordlist);
}

export function keyFromRecoveryPhrase(phrase: string): KeyPair {
  const normal = phrase.trim().toLowerCase().split(/\s+/).join(' ');
  const words = normal.split(' ').length;
  if (words !== 24)
    throw new AgentError('INVALID_PHRASE', `a recovery phrase has 24 words, got ${words}`);
  if (!validateMnemonic(normal, wordlist)) {
    throw new AgentError(
      'INVALID_PHRASE',
      'the recovery phrase is not valid (a word is misspelled, or the words are out of order)',
    );
  }
  return KeyPair.fromSeed(mnemonicToEntropy(normal, wordlist));
}
