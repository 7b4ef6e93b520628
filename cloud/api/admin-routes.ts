/** Members (owner only) and app passwords (each wallet its own). */
import { parseAddress } from '../auth/siwe.ts';
import { CloudError } from '../errors.ts';
import { int, str, type Route } from './routes.ts';

export const adminRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/members$/,
    owner: true,
    handler: (ctx) => ({ members: ctx.cloud.accounts.members() }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/members$/,
    owner: true,
    handler: (ctx) => {
      const address = parseAddress(ctx.body.address);
      ctx.cloud.accounts.addMember(address);
      const quota = int(ctx.body.quotaBytes, 'quotaBytes', { optional: true });
      if (quota !== undefined) ctx.cloud.store.setQuota(address, quota);
      ctx.status = 201;
      return { address, role: 'member' };
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/api\/members\/(0x[0-9a-fA-F]{40})$/,
    owner: true,
    handler: (ctx) => {
      const address = parseAddress(ctx.params[0]);
      if (!ctx.cloud.store.wallet(address))
        throw new CloudError('NOT_FOUND', `${address} is not a member`);
      const quota = ctx.body.quotaBytes === null ? null : int(ctx.body.quotaBytes, 'quotaBytes')!;
      ctx.cloud.store.setQuota(address, quota);
      return { address, quota: ctx.cloud.store.quota(address) };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/members\/(0x[0-9a-fA-F]{40})$/,
    owner: true,
    handler: (ctx) => {
      ctx.cloud.accounts.removeMember(parseAddress(ctx.params[0]));
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/app-passwords$/,
    handler: (ctx) => ({ appPasswords: ctx.cloud.accounts.appPasswords(ctx.principal.address) }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/app-passwords$/,
    handler: async (ctx) => {
      if (ctx.principal.via !== 'session')
        throw new CloudError('FORBIDDEN', 'app passwords are created from a wallet session');
      const label = str(ctx.body, 'label', { max: 100 });
      const created = await ctx.cloud.accounts.createAppPassword(ctx.principal.address, label);
      ctx.status = 201;
      return { ...created, label, user: ctx.principal.address };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/app-passwords\/([0-9a-f]{16})$/,
    handler: (ctx) => {
      ctx.cloud.accounts.revokeAppPassword(ctx.principal.address, ctx.params[0]);
      return { ok: true };
    },
  },
];
