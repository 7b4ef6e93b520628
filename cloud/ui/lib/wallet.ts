/**
 * Sign-In with Ethereum from a browser wallet (EIP-1193 `window.ethereum`): the node gives a
 * single-use nonce bound to its own name, the wallet signs the EIP-4361 message (personal_sign), and
 * the node checks it and sets an HttpOnly session cookie. The page never sees a key.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { api, type Me } from './api.ts';

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface Nonce {
  nonce: string;
  domain: string;
  uri: string;
  version: string;
  statement: string;
  issuedAt: string;
  expirationTime: string;
}

export class WalletError extends Error {}

export function browserWallet(): Eip1193Provider | undefined {
  const eth = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
  return eth && typeof eth.request === 'function' ? eth : undefined;
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** EIP-55 mixed-case checksum: wallets often answer in lower case, EIP-4361 wants the checksummed form. */
export function checksumAddress(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address))
    throw new WalletError(`the wallet gave an invalid address: ${address}`);
  const lower = address.slice(2).toLowerCase();
  const hash = hex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++)
    out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/** The EIP-4361 message, field by field as the standard lays it out. */
export function siweMessage(o: Nonce & { address: string; chainId: number }): string {
  return [
    `${o.domain} wants you to sign in with your Ethereum account:`,
    o.address,
    '',
    o.statement,
    '',
    `URI: ${o.uri}`,
    `Version: ${o.version}`,
    `Chain ID: ${o.chainId}`,
    `Nonce: ${o.nonce}`,
    `Issued At: ${o.issuedAt}`,
    `Expiration Time: ${o.expirationTime}`,
  ].join('\n');
}

function walletMessage(e: unknown): string {
  const err = e as { code?: number; message?: string };
  if (err?.code === 4001) return 'The request was declined in your wallet.';
  if (err?.code === -32002) return 'Your wallet is already asking; open it to answer.';
  return `Your wallet answered with an error: ${err?.message ?? String(e)}`;
}

async function ask<T>(eth: Eip1193Provider, method: string, params?: unknown[]): Promise<T> {
  try {
    return (await eth.request({ method, params })) as T;
  } catch (e) {
    throw new WalletError(walletMessage(e));
  }
}

export async function signInWithWallet(eth: Eip1193Provider, ownerCode?: string): Promise<Me> {
  const accounts = await ask<string[]>(eth, 'eth_requestAccounts');
  if (!Array.isArray(accounts) || typeof accounts[0] !== 'string')
    throw new WalletError('The wallet shared no account.');
  const address = checksumAddress(accounts[0]);
  let chainId = 1;
  try {
    const id = Number.parseInt(String(await eth.request({ method: 'eth_chainId' })), 16);
    if (Number.isSafeInteger(id) && id > 0) chainId = id;
  } catch {
    // Signing in does not depend on a chain; mainnet's id is the usual default.
  }
  const n = await api<Nonce>('GET', '/api/auth/nonce');
  const message = siweMessage({ ...n, address, chainId });
  const data = '0x' + hex(new TextEncoder().encode(message));
  const signature = await ask<string>(eth, 'personal_sign', [data, address]);
  await api('POST', '/api/auth/signin', { message, signature, ownerCode: ownerCode || undefined });
  return api<Me>('GET', '/api/me');
}
