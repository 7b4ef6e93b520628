/** Sign-in with Ethereum, sessions, and who am I. */
import { CloudError } from '../errors.ts';
import type { ApiContext, Route } from './routes.ts';

function sessionCookie(ctx: ApiContext, token: string, maxAgeS: number): string {
  const name = ctx.cloud.sessionCookieName(ctx.origin);
  const secure = ctx.origin.protocol === 'https:' ? '; Secure' : '';
  return `${name}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure}`;
}

export const authRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/node$/,
    public: true,
    handler: (ctx) => ({
      origin: ctx.origin.origin,
      claimed: ctx.cloud.accounts.ownerCode() === null,
      signIn: { domain: ctx.origin.host, uri: `${ctx.origin.origin}/` },
    }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/auth\/nonce$/,
    public: true,
    handler: (ctx) => {
      const limiter = ctx.cloud.nonceRequests;
      if (limiter.blocked(ctx.client))
        throw new CloudError(
          'RATE_LIMITED',
          'too many sign-in attempts from this address; wait a minute',
        );
      limiter.hit(ctx.client);
      const { nonce, expiresAt } = ctx.cloud.siwe.issueNonce();
      return {
        nonce,
        domain: ctx.origin.host,
        uri: `${ctx.origin.origin}/`,
        version: '1',
        statement: 'Sign in to your PC2 personal cloud.',
        issuedAt: new Date(ctx.cloud.options.clock.now()).toISOString(),
        expirationTime: new Date(expiresAt).toISOString(),
      };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/auth\/signin$/,
    public: true,
    handler: (ctx) => {
      const { cloud } = ctx;
      if (cloud.authFailures.blocked(ctx.client))
        throw new CloudError('RATE_LIMITED', 'too many failed sign-ins; wait a minute');
      let address: string;
      let role;
      try {
        address = cloud.siwe.verify(ctx.body.message, ctx.body.signature, ctx.origin);
        role = cloud.accounts.admit(address, ctx.body.ownerCode);
      } catch (e) {
        if (
          e instanceof CloudError &&
          (e.code === 'INVALID_SIGNATURE' || e.code === 'OWNER_CODE_REQUIRED')
        )
          cloud.authFailures.hit(ctx.client);
        throw e;
      }
      const { token, expires } = cloud.accounts.createSession(address);
      ctx.headers['set-cookie'] = sessionCookie(
        ctx,
        token,
        Math.floor((expires - cloud.options.clock.now()) / 1000),
      );
      return { address, role, expiresAt: expires };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/auth\/signout$/,
    public: true,
    handler: (ctx) => {
      const token = ctx.cloud.sessionToken(ctx);
      if (token) ctx.cloud.accounts.endSession(token);
      ctx.headers['set-cookie'] = sessionCookie(ctx, '', 0);
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/me$/,
    handler: (ctx) => ({
      address: ctx.principal.address,
      role: ctx.principal.role,
      via: ctx.principal.via,
      quota: ctx.cloud.store.quota(ctx.principal.address),
    }),
  },
];
