/**
 * The WebDAV If header (RFC 4918 §10.4): lists of state tokens and entity tags, optionally tagged
 * with a resource, each condition possibly negated. Parsed into data; evaluated by the caller.
 */
import { CloudError } from '../errors.ts';

export interface Condition {
  not: boolean;
  token?: string;
  etag?: string;
}

export interface IfList {
  /** The tagged resource (a URL or absolute path), or undefined for the request URI. */
  resource?: string;
  conditions: Condition[];
}

export function parseIf(header: string | undefined): IfList[] | undefined {
  if (header === undefined) return undefined;
  const lists: IfList[] = [];
  let i = 0;
  let resource: string | undefined;
  const bad = (): never => {
    throw new CloudError('BAD_REQUEST', 'malformed If header');
  };
  const skip = (): void => {
    while (i < header.length && /\s/.test(header[i])) i++;
  };
  const until = (end: string): string => {
    const j = header.indexOf(end, i + 1);
    if (j < 0) bad();
    const s = header.slice(i + 1, j);
    i = j + 1;
    return s;
  };
  skip();
  while (i < header.length) {
    if (header[i] === '<') {
      resource = until('>');
      skip();
      continue;
    }
    if (header[i] !== '(') bad();
    i++;
    const conditions: Condition[] = [];
    for (;;) {
      skip();
      if (header[i] === ')') {
        i++;
        break;
      }
      let not = false;
      if (header.slice(i, i + 3).toLowerCase() === 'not') {
        not = true;
        i += 3;
        skip();
      }
      if (header[i] === '<') conditions.push({ not, token: until('>') });
      else if (header[i] === '[') conditions.push({ not, etag: until(']') });
      else bad();
    }
    if (conditions.length === 0) bad();
    lists.push({ resource, conditions });
    skip();
  }
  if (lists.length === 0) bad();
  return lists;
}

/** Every lock token named in the header (a token is "submitted" when it appears, RFC 4918 §6.5). */
export function submittedTokens(lists: IfList[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const l of lists ?? [])
    for (const c of l.conditions) if (c.token && !c.not) out.add(c.token);
  return out;
}
