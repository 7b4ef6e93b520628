/**
 * `pc2 status --supernode <url>`: a super node's health at a glance (GET /api/v1/health). Exit 0
 * when it is fit to serve (ok or degraded), 1 when it is not (the report says which check failed),
 * 4 when it cannot be reached or does not answer with a health report. `--json` prints the report.
 * (The node owner's `pc2 status [name]` lives beside this; this file is only the --supernode form.)
 */
import { registryPaths } from '../shared/records/api.ts';
import type { SuperNodeHealth } from '../shared/records/health.ts';
import { CliError } from './errors.ts';
import { parseOptions } from './options.ts';

const USAGE = `pc2 status --supernode <url> [--json]

Shows a super node's health: version, uptime, store, replication with each peer, DHT, tunnels and the
zone certificate, and whether it is fit to serve. Exit 0 fit, 1 not fit, 4 unreachable.`;

const SPEC = {
  supernode: {
    kind: 'string',
    value: '<url>',
    description: "the super node's API URL, e.g. http://sn1.example:8080",
    required: true,
  },
  json: { kind: 'boolean', description: 'print the health report as JSON', default: false },
  timeoutSeconds: {
    kind: 'number',
    value: '<s>',
    description: 'how long to wait for the answer',
    default: 10,
  },
} as const;

export const EXIT_UNFIT = 1;
export const EXIT_UNREACHABLE = 4;

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

export async function runStatus(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const o = parsed.options;
  let url: URL;
  try {
    url = new URL(registryPaths.health, o.supernode);
  } catch {
    throw new CliError(`--supernode is a URL, got "${o.supernode}"`, 2);
  }
  let res: Response;
  let report: SuperNodeHealth;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutSeconds! * 1000) });
    report = (await res.json()) as SuperNodeHealth;
  } catch (e) {
    throw new CliError(`${o.supernode}: no answer (${(e as Error).message})`, EXIT_UNREACHABLE);
  }
  if (!report || typeof report !== 'object' || !Array.isArray(report.checks))
    throw new CliError(
      `${o.supernode}: HTTP ${res.status} without a health report (not a super node, or an older one)`,
      EXIT_UNREACHABLE,
    );
  console.log(o.json ? JSON.stringify(report, null, 2) : renderHealth(report));
  if (res.status !== 200) process.exitCode = EXIT_UNFIT;
}
