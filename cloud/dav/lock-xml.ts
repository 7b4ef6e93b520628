/** The DAV:activelock element of a lock. */
import { DAV_PREFIX } from './context.ts';
import type { Lock } from './locks.ts';
import { escapeXml } from './xml.ts';
import { encodePath } from '../storage/paths.ts';

export function activeLock(lock: Lock, now: number): string {
  const remaining = Math.max(0, Math.ceil((lock.expires - now) / 1000));
  const root = DAV_PREFIX + encodePath(lock.path.split('/').filter(Boolean));
  return (
    '<D:activelock>' +
    `<D:locktype><D:write/></D:locktype><D:lockscope>${lock.exclusive ? '<D:exclusive/>' : '<D:shared/>'}</D:lockscope>` +
    `<D:depth>${lock.infinite ? 'infinity' : '0'}</D:depth>` +
    (lock.owner ? `<D:owner>${lock.owner}</D:owner>` : '') +
    `<D:timeout>Second-${remaining}</D:timeout>` +
    `<D:locktoken><D:href>${escapeXml(lock.token)}</D:href></D:locktoken>` +
    `<D:lockroot><D:href>${escapeXml(root)}</D:href></D:lockroot>` +
    '</D:activelock>'
  );
}
