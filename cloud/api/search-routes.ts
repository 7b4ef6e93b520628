/** Filename and full-text search over the signed-in wallet's files. */
import { CloudError } from '../errors.ts';
import { int, type Route } from './routes.ts';

export const searchRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/search$/,
    handler: async (ctx) => {
      const q = ctx.url.searchParams.get('q') ?? '';
      if (q.trim() === '') throw new CloudError('BAD_REQUEST', 'give the words to look for as ?q=');
      if (q.length > 512)
        throw new CloudError('BAD_REQUEST', 'the query is at most 512 characters');
      const limit = Math.min(
        int(ctx.url.searchParams.get('limit') ?? undefined, 'limit', { optional: true, min: 1 }) ??
          50,
        200,
      );
      return { q, results: await ctx.cloud.search.search(ctx.principal.address, q, limit) };
    },
  },
];
