/** Name rules: a DNS label, lower-case a-z, 0-9 and hyphen, 3-63 chars, not reserved. */
import { err, ok, type Result, SharedError } from '../errors.ts';

export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/;

/** Names nobody can claim by default; operators extend the list in their configuration. */
export const DEFAULT_RESERVED_NAMES: readonly string[] = [
  'api',
  'www',
  'admin',
  'mail',
  'smtp',
  'imap',
  'pop',
  'ftp',
  'ns',
  'ns1',
  'ns2',
  'dns',
  'mx',
  'root',
  'support',
  'help',
  'status',
  'blog',
  'docs',
  'dev',
  'staging',
  'test',
  'localhost',
  'gateway',
  'edge',
  'relay',
  'proxy',
  'super',
  'supernode',
  'registry',
  'registrar',
  'node',
  'nodes',
  'dht',
  'boson',
  'pc2',
  'elastos',
  'ela',
  'cdn',
  'static',
  'assets',
  'auth',
  'login',
  'account',
  'accounts',
  'security',
  'abuse',
  'postmaster',
  'hostmaster',
  'webmaster',
  'info',
  'autoconfig',
  'autodiscover',
  'wpad',
  'xn--',
];

/** Checks a name; returns the name on success, INVALID_NAME / RESERVED_NAME otherwise. */
export function checkName(
  name: unknown,
  reserved: Iterable<string> = DEFAULT_RESERVED_NAMES,
): Result<string> {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    return err(
      new SharedError(
        'INVALID_NAME',
        'a name is 3-63 characters of a-z, 0-9 and hyphen, not starting or ending with a hyphen',
      ),
    );
  }
  if (name.startsWith('xn--') || name.includes('--')) {
    return err(new SharedError('INVALID_NAME', 'a name may not contain two hyphens in a row'));
  }
  for (const r of reserved) {
    if (r === name) return err(new SharedError('RESERVED_NAME', `the name "${name}" is reserved`));
  }
  return ok(name);
}

/**
 * The name a host addresses under a zone: `alice.ela.city` under `ela.city` is "alice"; the apex is
 * "" ; a host outside the zone, or more than one label deep, is null.
 */
export function nameFromHost(host: string, zone: string): string | null {
  const bare = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const z = zone.toLowerCase();
  if (bare === z) return '';
  if (!bare.endsWith('.' + z)) return null;
  const label = bare.slice(0, -(z.length + 1));
  return label.includes('.') ? null : label;
}
