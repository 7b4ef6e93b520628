/**
 * The devnet's demo owner: a throwaway wallet that claims a fresh cloud with its owner code, makes an
 * app password and puts a little content there, all through the cloud's own HTTP API (SIWE sign-in,
 * the JSON API, WebDAV), as a person with a browser wallet and rclone would.
 */
import * as Address from 'ox/Address';
import * as Hex from 'ox/Hex';
import * as PersonalMessage from 'ox/PersonalMessage';
import * as Secp256k1 from 'ox/Secp256k1';
import * as Signature from 'ox/Signature';
import * as Siwe from 'ox/Siwe';
import { CliError } from './errors.ts';

export interface DemoOwner {
  /** The wallet (devnet only: its key is printed so it can be imported into a browser wallet). */
  address: string;
  privateKey: string;
  /** HTTP Basic password for WebDAV, tus and scripts (user: the address). */
  appPassword: string;
}

export const DEMO_FILES: Record<string, string> = {
  'Welcome.md':
    '# Welcome to your PC2 personal cloud\n\nThis node serves your files over the web, WebDAV and tus.\nSee docs/cloud.md.\n',
  'Documents/notes.txt': 'Things to try:\n- rclone ls\n- a share link\n- the chat page at /chat\n',
  'Documents/todo.md': '- [x] start the devnet\n- [ ] mount it with rclone\n',
};
export const DEMO_FOLDERS = ['Documents', 'Photos'];

async function call(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Response> {
  const res = await fetch(`${url}${path}`, init);
  if (res.status >= 300) {
    throw new CliError(
      `demo content: ${init.method ?? 'GET'} ${path} answered ${res.status} ${await res.text()}`,
    );
  }
  return res;
}

/** Claims the cloud at `url` (its loopback URL) with a new wallet and fills it with the demo content. */
export async function seedDemoCloud(
  url: string,
  ownerCode: string,
  privateKey: Hex.Hex = Secp256k1.randomPrivateKey(),
): Promise<DemoOwner> {
  const address = Address.checksum(Address.fromPublicKey(Secp256k1.getPublicKey({ privateKey })));
  const nonce = (await (await call(url, '/api/auth/nonce', {})).json()) as {
    nonce: string;
    domain: string;
    uri: string;
  };
  const message = Siwe.createMessage({
    address,
    chainId: 1,
    domain: nonce.domain,
    nonce: nonce.nonce,
    uri: nonce.uri,
    version: '1',
    issuedAt: new Date(),
    statement: 'Sign in to your PC2 personal cloud.',
  });
  const signature = Signature.toHex(
    Secp256k1.sign({
      payload: PersonalMessage.getSignPayload(Hex.fromString(message)),
      privateKey,
    }),
  );
  const json = { 'content-type': 'application/json', origin: url };
  const signedIn = await call(url, '/api/auth/signin', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ message, signature, ownerCode }),
  });
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
  const session = { ...json, cookie };
  for (const path of DEMO_FOLDERS)
    await call(url, '/api/files/mkdir', {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ path }),
    });
  const created = (await (
    await call(url, '/api/app-passwords', {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ label: 'devnet' }),
    })
  ).json()) as { password: string };
  const basic = `Basic ${Buffer.from(`${address}:${created.password}`).toString('base64')}`;
  for (const [path, text] of Object.entries(DEMO_FILES))
    await call(url, `/dav/${path.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      headers: { authorization: basic, 'content-type': 'text/plain; charset=utf-8' },
      body: text,
    });
  return { address, privateKey, appPassword: created.password };
}

/** What `npm start` prints about its clouds: the demo wallet, the file manager, WebDAV and rclone. */
export function demoText(
  clouds: Record<string, { owner: DemoOwner }>,
  urls: Record<string, string>,
  gatewayUrl: string,
): string {
  const { address, privateKey } = Object.values(clouds)[0].owner;
  const lines = [
    '',
    'Each node is a personal cloud with a little demo content, owned by a throwaway demo wallet:',
    `  wallet ${address}`,
    `  key    ${privateKey}   (devnet only: import it into a browser wallet to sign in)`,
    '',
    "The file manager: open a node's URL in a browser with that wallet and sign in.",
    '',
    'WebDAV (user: the wallet address, password: an app password; the files are in /dav/):',
  ];
  for (const [name, { owner }] of Object.entries(clouds))
    lines.push(`  ${urls[name]}/dav/   app password ${owner.appPassword}`);
  const [name, { owner }] = Object.entries(clouds)[0];
  lines.push(
    '',
    'e.g. curl -u <wallet>:<app password> -X PROPFIND -H "Depth: 1" <url>/dav/, or rclone (Go does not',
    'resolve *.localhost: the gateway doubles as its HTTP proxy):',
    `  HTTP_PROXY=${gatewayUrl} rclone ls :webdav: --webdav-url ${urls[name]}/dav/ --webdav-user ${owner.address} --webdav-pass $(rclone obscure ${owner.appPassword})`,
  );
  return lines.join('\n');
}
