/**
 * Browser tests of the file manager: Debian's Chromium (tests/helpers/chromium.ts) with an EIP-1193
 * wallet injected into the page whose requests are answered by this process with real secp256k1
 * signatures.
 */
import * as Hex from 'ox/Hex';
import * as PersonalMessage from 'ox/PersonalMessage';
import * as Secp256k1 from 'ox/Secp256k1';
import * as Signature from 'ox/Signature';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/chromium.ts';
import type { Wallet } from './helpers.ts';

export { CHROMIUM, hasChromium, launchChromium };
export const NO_CHROMIUM = `the file manager's browser test needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`;

export interface WalletLog {
  method: string;
  params: unknown[];
}

/**
 * Gives every page of the context a `window.ethereum` (EIP-1193) backed by `w`: accounts are
 * answered in lower case, as many wallets do, and personal_sign signs the exact bytes asked.
 */
export async function injectWallet(
  context: BrowserContext,
  w: Wallet,
  log: WalletLog[] = [],
): Promise<WalletLog[]> {
  await context.exposeFunction('__pc2TestWallet', (method: string, params: unknown[]) => {
    log.push({ method, params });
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return { result: [w.address.toLowerCase()] };
      case 'eth_chainId':
        return { result: '0x1' };
      case 'personal_sign': {
        const [data, address] = params as [string, string];
        if (String(address).toLowerCase() !== w.address.toLowerCase())
          return { error: { code: 4100, message: 'unknown account' } };
        const payload = PersonalMessage.getSignPayload(data as Hex.Hex);
        return { result: Signature.toHex(Secp256k1.sign({ payload, privateKey: w.privateKey })) };
      }
      default:
        return { error: { code: 4200, message: `unsupported method ${method}` } };
    }
  });
  await context.addInitScript(() => {
    const call = (
      window as unknown as {
        __pc2TestWallet(
          m: string,
          p: unknown[],
        ): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
      }
    ).__pc2TestWallet;
    (window as unknown as { ethereum: unknown }).ethereum = {
      isTestWallet: true,
      async request({ method, params }: { method: string; params?: unknown[] }) {
        const r = await call(method, params ?? []);
        if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
        return r.result;
      },
    };
  });
  return log;
}

export const decodeHexMessage = (data: string): string => Hex.toString(data as Hex.Hex);
