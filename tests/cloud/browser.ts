/**
 * Browser tests of the file manager: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), with an EIP-1193 wallet injected into the page whose requests are answered
 * by this process with real secp256k1 signatures, and small real files (PNG, PDF) to preview.
 */
import { existsSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import * as Hex from 'ox/Hex';
import * as PersonalMessage from 'ox/PersonalMessage';
import * as Secp256k1 from 'ox/Secp256k1';
import * as Signature from 'ox/Signature';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import type { Wallet } from './helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const NO_CHROMIUM = `the file manager's browser test needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

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

/** A real PNG (RGB, a colour gradient) of the given size. */
export function png(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 90 + 60);
      raw[row + 2 + x * 3] = Math.round((y / height) * 120 + 80);
      raw[row + 3 + x * 3] = 220;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real one-page PDF showing `text`, with a correct cross-reference table. */
export function pdf(text: string): Buffer {
  const stream = `BT /F1 28 Tf 72 700 Td (${text.replace(/[()\\]/g, '\\$&')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A real WAV file (PCM, 16-bit mono, 22.05 kHz) of a quiet tone lasting `seconds`. */
export function wav(seconds: number): Buffer {
  const rate = 22_050;
  const samples = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++)
    out.writeInt16LE(Math.round(Math.sin((i / rate) * 2 * Math.PI * 440) * 2000), 44 + i * 2);
  return out;
}
