/**
 * `pc2 status --health --supernode <url> ...`: each super node's health at a glance
 * (GET /api/v1/health). Exit 0 when every one is fit to serve (ok or degraded), 1 when one is not
 * (its report says which check failed), 4 when one cannot be reached or answers no health report.
 * `--json` prints the report (an array for several super nodes).
 */
import { registryPaths } from '../shared/records/api.ts';
import type { SuperNodeHealth } from '../shared/records/health.ts';
import { CliError, EXIT } from './errors.ts';

const TIMEOUT_MS = 10_000;

const ago = (s: number | null) =>
  s === null ? 'never' : s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;

function duration(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export function renderHealth(h: SuperNodeHealth): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const lines = [
    `${h.label}  ${h.status.toUpperCase()}  ${h.version}, up ${duration(h.uptimeS)}${h.region ? `, ${h.region}` : ''}`,
    `  id        ${h.registrar}`,
    `  store     ${h.store.namesBound} names bound, log ${(h.store.logBytes / 1e6).toFixed(1)} MB${h.store.writeError ? `, WRITES FAIL: ${h.store.writeError}` : ''}`,
    `  tunnels   ${h.tunnel.sessions} sessions, ${h.tunnel.connections} connections, ${h.tunnel.streams} streams, ${h.tunnel.queuedStreams} waiting`,
    `  dht       ${h.dht ? `${h.dht.routingTable.v4} peers (IPv4)${h.dht.routingTable.v6 === null ? '' : `, ${h.dht.routingTable.v6} (IPv6)`}, about ${h.dht.sizeEstimate} nodes` : 'off'}`,
    `  cert      ${h.certificate ? `expires ${new Date(h.certificate.notAfter).toISOString()} (in ${duration(Math.max(0, h.certificate.expiresInS))})` : 'none'}`,
    ...(h.peers.length
      ? h.peers.map(
          (p) =>
            `  peer      ${p.url}  ${p.state}, pulled ${ago(p.lagS)}, ${p.pending} to push${p.lastError && p.state !== 'ok' ? ` (${p.lastError})` : ''}`,
        )
      : ['  peers     none']),
    'checks:',
    ...h.checks.map((c) => `  ${mark[c.status]}  ${c.name.padEnd(12)} ${c.detail}`),
  ];
  return lines.join('\n');
}

/** One super node's report and the HTTP status it came with; unreachable: a CliError (exit 4). */
async function healthOf(base: string): Promise<{ fit: boolean; report: SuperNodeHealth }> {
  let res: Response;
  let report: SuperNodeHealth;
  try {
    res = await fetch(new URL(registryPaths.health, base), {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    report = (await res.json()) as SuperNodeHealth;
  } catch (e) {
    throw new CliError(`${base}: no answer (${(e as Error).message})`, EXIT.UNREACHABLE);
  }
  if (!report || typeof report !== 'object' || !Array.isArray(report.checks))
    throw new CliError(
      `${base}: HTTP ${res.status} without a health report (not a super node, or an older one)`,
      EXIT.UNREACHABLE,
    );
  return { fit: res.status === 200, report };
}

export async function showHealth(superNodes: string[], json: boolean): Promise<void> {
  const answers = await Promise.all(superNodes.map((url) => healthOf(url)));
  const reports = answers.map((a) => a.report);
  if (json) console.log(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
  else console.log(reports.map(renderHealth).join('\n\n'));
  if (answers.some((a) => !a.fit)) process.exitCode = EXIT.ERROR;
}
