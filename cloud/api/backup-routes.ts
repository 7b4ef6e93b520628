/**
 * Backups from the owner's page or a script: `GET /api/admin/backup` streams the archive;
 * `POST /api/admin/restore[?replace=1]` takes one as the raw body. Restoring is for the owner, or,
 * on a node nobody has claimed yet (a fresh node), for whoever holds the one-time owner code
 * (header X-Owner-Code): the restored node then has the backup's owner.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sameSecret } from '../auth/secrets.ts';
import { backupStream } from '../backup/backup.ts';
import { CloudError } from '../errors.ts';
import type { Route } from './routes.ts';

export const backupRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/admin\/backup$/,
    owner: true,
    raw: true,
    handler: async (ctx) => {
      const { cloud, res } = ctx;
      const name = `pc2-cloud-${ctx.origin.hostname}-${new Date(cloud.options.clock.now()).toISOString().slice(0, 19).replace(/[:T]/g, '-')}.pc2backup`;
      const stream = Readable.from(
        backupStream({
          db: cloud.db,
          blobs: cloud.blobs,
          dataDir: cloud.options.dataDir,
          clock: cloud.options.clock,
        }),
        { objectMode: false },
      );
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      });
      // A failure mid-archive cuts the response: the archive then has no manifest and restores refuse it.
      await pipeline(stream, res).catch(() => res.destroy());
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/admin\/restore$/,
    public: true,
    rawBody: true,
    handler: async (ctx) => {
      const { cloud, req } = ctx;
      const code = cloud.accounts.ownerCode();
      const header = req.headers['x-owner-code'];
      const allowed =
        ctx.principal?.role === 'owner' ||
        (code !== null &&
          typeof header === 'string' &&
          sameSecret(header.trim().toUpperCase(), code));
      if (!allowed)
        throw new CloudError(
          'FORBIDDEN',
          'only the owner restores backups (or, on an unclaimed node, whoever has the owner code: X-Owner-Code)',
        );
      if (!cloud.restoreHook) throw new CloudError('INTERNAL', 'restore is not available');
      const summary = await cloud.restoreHook(req, {
        replace: ctx.url.searchParams.get('replace') === '1',
      });
      return { restored: summary };
    },
  },
];
