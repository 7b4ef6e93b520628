/**
 * The cloud as one node:http request listener: decides the request's origin, authenticates it
 * (session cookie or app password), checks CSRF, and routes to WebDAV, tus, shares or the JSON API.
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Accounts, type Principal } from './auth/accounts.ts';
import { SiweVerifier } from './auth/siwe.ts';
import { handleApi } from './api/routes.ts';
import { LockTable } from './dav/locks.ts';
import { DAV_PREFIX, type DavDeps } from './dav/context.ts';
import { handleDav } from './dav/handler.ts';
import { CloudError } from './errors.ts';
import { checkOrigin } from './http/csrf.ts';
import { clientAddress, requestOrigin } from './http/origin.ts';
import { WindowLimiter } from './http/rate-limit.ts';
import { drain, parseCookies, sendError } from './http/respond.ts';
import type { ResolvedOptions } from './options.ts';
import type { RestoreSummary } from './backup/restore.ts';
import { lockDataDir } from './runtime/data-lock.ts';
import { AppsService } from './apps/service.ts';
import { ChatService } from './chat/service.ts';
import { SearchService } from './search/service.ts';
import { isPage, servePage } from './pages/serve.ts';
import { ShareService } from './shares/service.ts';
import { handleShare, SHARE_PREFIX } from './shares/public.ts';
import { BlobStore } from './storage/blobs.ts';
import { Db } from './storage/db.ts';
import { FileStore } from './storage/store.ts';
import { TUS_PREFIX, TusUploads } from './tus/uploads.ts';
import { handleTus } from './tus/handler.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  origin: URL;
  url: URL;
  client: string;
  cloud: CloudApp;
}

export class CloudApp {
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly store: FileStore;
  readonly accounts: Accounts;
  readonly siwe: SiweVerifier;
  readonly locks: LockTable;
  readonly shares: ShareService;
  readonly uploads: TusUploads;
  readonly search: SearchService;
  readonly apps: AppsService;
  readonly chat: ChatService;
  readonly authFailures: WindowLimiter;
  /** Sign-in nonces per client address: 60 a minute. */
  readonly nonceRequests: WindowLimiter;
  /** Set by createCloud: a restore replaces this whole app (index.ts). */
  restoreHook?: (
    source: AsyncIterable<Uint8Array>,
    opts: { replace?: boolean },
  ) => Promise<RestoreSummary>;
  private readonly dav: DavDeps;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly unlock: () => void;

  constructor(readonly options: ResolvedOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const { clock, limits } = options;
    this.unlock = lockDataDir(options.dataDir);
    try {
      this.db = new Db(join(options.dataDir, 'cloud.db'));
    } catch (e) {
      this.unlock();
      throw e;
    }
    this.blobs = new BlobStore(options.dataDir);
    this.store = new FileStore(this.db, this.blobs, clock, limits.quotaBytes, (e) => {
      this.search.onChange(e);
      try {
        options.onChange(e);
      } catch (error) {
        options.logger.warn('cloud onChange hook failed', { error: String(error) });
      }
    });
    this.search = new SearchService(
      options.dataDir,
      this.store,
      options.logger,
      limits.searchTextBytes,
    );
    this.apps = new AppsService(this.store, this.blobs, limits, options.logger);
    this.chat = new ChatService(options.chat, this.db, clock, options.logger);
    this.accounts = new Accounts(this.db, this.store, clock, limits.sessionTtlMs);
    this.siwe = new SiweVerifier(this.db, clock, limits.nonceTtlMs);
    this.locks = new LockTable(this.db, clock);
    this.shares = new ShareService(this.db, this.store, clock, limits.sharePasswordAttemptsPerMin);
    this.uploads = new TusUploads(this.db, this.store, this.blobs, options.dataDir, clock, limits);
    this.authFailures = new WindowLimiter(limits.authFailuresPerMin, 60_000, () => clock.now());
    this.nonceRequests = new WindowLimiter(60, 60_000, () => clock.now());
    this.dav = {
      store: this.store,
      blobs: this.blobs,
      locks: this.locks,
      limits,
      clock,
      logger: options.logger,
    };
    const started = Date.now();
    void this.blobs
      .collectOrphans(
        (id) =>
          this.closed || this.db.get('SELECT 1 AS x FROM blobs WHERE id = ?', id) !== undefined,
        started,
      )
      .then((n) => n > 0 && options.logger.info('cloud removed unreferenced blobs', { count: n }))
      .catch((e) => options.logger.warn('cloud orphan collection failed', { error: String(e) }));
    if (options.sweepIntervalMs > 0) {
      this.timer = setInterval(
        () =>
          void this.sweep().catch((e) =>
            options.logger.warn('cloud sweep failed', { error: String(e) }),
          ),
        options.sweepIntervalMs,
      );
      this.timer.unref();
    }
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('x-content-type-options', 'nosniff');
    this.route(req, res).catch(async (error) => {
      try {
        // A small unread body is drained so the client reads the answer; a large one (a refused
        // upload) is not: the connection closes after the answer instead.
        if (!req.complete && !res.headersSent && !(await drain(req, 1024 * 1024)))
          res.setHeader('connection', 'close');
        sendError(res, error, this.options.logger);
      } catch (e) {
        this.options.logger.error('cloud could not answer an error', { error: String(e) });
        res.destroy();
      }
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = requestOrigin(req, this.options.trustedProxies, this.options.origins);
    if (!origin) throw new CloudError('MISDIRECTED', 'this node does not serve that host');
    const raw = req.url ?? '/';
    if (!raw.startsWith('/'))
      throw new CloudError('BAD_REQUEST', 'the request target must be a path');
    let url: URL;
    try {
      url = new URL(raw, origin);
    } catch {
      throw new CloudError('BAD_REQUEST', 'malformed request target');
    }
    // The raw path keeps %2F apart from "/": names are decoded one segment at a time later.
    const rawPath = raw.split('?')[0];
    const ctx: RequestContext = {
      req,
      res,
      origin,
      url,
      client: clientAddress(req, this.options.trustedProxies),
      cloud: this,
    };
    // Windows' and macOS' WebDAV clients probe the server root with OPTIONS before the share path.
    const davOptions =
      req.method === 'OPTIONS' && (rawPath === '/' || rawPath.startsWith(DAV_PREFIX));
    if (davOptions || rawPath === DAV_PREFIX || rawPath.startsWith(DAV_PREFIX + '/')) {
      if (req.method === 'OPTIONS') {
        const anon: Principal = { address: '', role: 'member', via: 'app-password' };
        return handleDav(req, res, this.dav, anon, origin, '/');
      }
      const principal = await this.requirePrincipal(ctx);
      return handleDav(req, res, this.dav, principal, origin, rawPath.slice(DAV_PREFIX.length));
    }
    if (rawPath === TUS_PREFIX || rawPath.startsWith(TUS_PREFIX + '/')) {
      const principal = req.method === 'OPTIONS' ? undefined : await this.requirePrincipal(ctx);
      return handleTus(ctx, principal, rawPath.slice(TUS_PREFIX.length));
    }
    if (rawPath.startsWith(SHARE_PREFIX + '/'))
      return handleShare(ctx, rawPath.slice(SHARE_PREFIX.length + 1));
    if (rawPath.startsWith('/api/') || rawPath.startsWith('/v1/')) return handleApi(ctx, rawPath);
    if (isPage(rawPath)) return servePage(rawPath, req.method ?? 'GET', res);
    throw new CloudError(
      'NOT_FOUND',
      'nothing here: the file manager lives at /, WebDAV at /dav/, uploads at /tus/, the API at /api/',
    );
  }

  sessionCookieName(origin: URL): string {
    return origin.protocol === 'https:' ? '__Host-pc2_session' : 'pc2_session';
  }

  sessionToken(ctx: RequestContext): string | undefined {
    return parseCookies(ctx.req.headers.cookie).get(this.sessionCookieName(ctx.origin));
  }

  /** The signed-in wallet (session cookie or HTTP Basic app password), CSRF-checked; undefined if none. */
  async principal(ctx: RequestContext): Promise<Principal | undefined> {
    const token = this.sessionToken(ctx);
    const session = token ? this.accounts.session(token) : undefined;
    if (session) {
      checkOrigin(ctx.req, ctx.origin, true);
      return session;
    }
    const auth = ctx.req.headers.authorization;
    const scheme = auth?.slice(0, 7).toLowerCase();
    if (auth && (scheme?.startsWith('basic ') || scheme === 'bearer ')) {
      if (this.authFailures.blocked(ctx.client))
        throw new CloudError('RATE_LIMITED', 'too many failed sign-ins; wait a minute');
      let found: Principal | undefined;
      if (scheme === 'bearer ') {
        // OpenAI-compatible clients send the key as a bearer token: an app password works as one.
        found = await this.accounts.checkAppPassword('', auth.slice(7).trim());
      } else {
        const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        found =
          i < 0
            ? undefined
            : await this.accounts.checkAppPassword(decoded.slice(0, i), decoded.slice(i + 1));
      }
      if (!found) {
        this.authFailures.hit(ctx.client);
        throw new CloudError(
          'UNAUTHENTICATED',
          'wrong or revoked app password (user: your wallet address)',
        );
      }
      checkOrigin(ctx.req, ctx.origin, false);
      return found;
    }
    checkOrigin(ctx.req, ctx.origin, false);
    return undefined;
  }

  async requirePrincipal(ctx: RequestContext): Promise<Principal> {
    const p = await this.principal(ctx);
    if (!p)
      throw new CloudError(
        'UNAUTHENTICATED',
        'sign in with your wallet, or use an app password (HTTP Basic)',
      );
    return p;
  }

  /** Purges expired trash, partial uploads, sessions and nonces. */
  async sweep(): Promise<{ trash: number; uploads: number; sessions: number }> {
    const trash = this.store.purgeExpiredTrash(this.options.limits.trashRetentionMs);
    const uploads = await this.uploads.sweep();
    const sessions = this.accounts.sweepSessions();
    this.db.run('DELETE FROM nonces WHERE expires < ?', this.options.clock.now());
    return { trash, uploads, sessions };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.search.close();
    this.chat.close();
    this.db.close();
    this.unlock();
  }
}
