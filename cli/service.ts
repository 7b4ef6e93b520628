/**
 * `pc2 service install node|supernode|gateway`: a hardened systemd unit for one role, and the JSON
 * config file it runs with. The role's own options come after `--` and are checked exactly as the
 * role checks them, so a unit is never written for a config that would not start. The unit runs
 * cli/pc2.js of this checkout (which starts the project's pinned Node.js), as its own user, with a
 * read-only system except its data directory. `--dry-run` prints both files and writes nothing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, EXIT } from './errors.ts';
import { type Spec, configOf, parseOptions } from './options.ts';

const USAGE = `pc2 service install node|supernode|gateway [options] -- <options of that role>

Writes /etc/systemd/system/pc2-<role>.service and its config file (/etc/pc2/<role>.json), then
prints how to create the user and enable the service. Example:

  pc2 service install node -- --name alice --supernode https://sn1.ela.city`;

const ROLES = ['node', 'supernode', 'gateway'] as const;
type Role = (typeof ROLES)[number];

const SPEC = {
  user: {
    kind: 'string',
    value: '<user>',
    description: 'the system user the service runs as',
    default: 'pc2',
    check: (v: string) => (/^[a-z_][a-z0-9_-]{0,31}$/.test(v) ? undefined : 'a user name'),
  },
  dataDir: {
    kind: 'string',
    value: '<dir>',
    description: "the service's one writable directory (keys, store) (default /var/lib/pc2/<role>)",
    check: (v: string) => (v.startsWith('/') ? undefined : 'an absolute path'),
  },
  unitConfig: {
    kind: 'string',
    value: '<file>',
    description: 'the config file the unit runs with (default /etc/pc2/<role>.json)',
    check: (v: string) => (v.startsWith('/') ? undefined : 'an absolute path'),
  },
  unitDir: {
    kind: 'string',
    value: '<dir>',
    description: 'where the unit file goes',
    default: '/etc/systemd/system',
  },
  dryRun: {
    kind: 'boolean',
    description: 'print the unit and the config; write nothing',
    default: false,
  },
  force: {
    kind: 'boolean',
    description: 'overwrite an existing unit or config file',
    default: false,
  },
} as const;

/** This checkout's launcher: what ExecStart runs (never a bare /usr/bin/node). */
export const LAUNCHER = fileURLToPath(new URL('./pc2.js', import.meta.url));

async function roleSpec(role: Role): Promise<Spec> {
  if (role === 'node') return (await import('./node.ts')).NODE_SPEC;
  if (role === 'supernode') return (await import('./supernode.ts')).SUPERNODE_SPEC;
  return (await import('./gateway.ts')).GATEWAY_SPEC;
}

/** Where a role keeps its keys and store under the service's data directory, unless told otherwise. */
function dataDefaults(role: Role, dataDir: string): Record<string, string> {
  if (role === 'node') return { key: join(dataDir, 'identity.key') };
  if (role === 'supernode') return { key: join(dataDir, 'supernode.key'), dataDir };
  return { edgeKeyFile: join(dataDir, 'edge.key') };
}

/** Ports below 1024 need one capability, granted to this unit only. */
function privilegedPorts(role: Role, config: Record<string, unknown>): boolean {
  const ports: unknown[] =
    role === 'node'
      ? []
      : [
          config.apiPort ?? (role === 'supernode' ? 8080 : undefined),
          config.httpsPort ?? 443,
          config.httpPort ?? 80,
        ];
  if (role === 'supernode' && !config.gateway) ports.splice(1);
  if (typeof config.dns === 'string') ports.push(Number(config.dns.split(':').pop()));
  return ports.some((p) => typeof p === 'number' && p > 0 && p < 1024);
}

export function unitText(
  role: Role,
  o: {
    user: string;
    dataDir: string;
    configFile: string;
    launcher: string;
    bindsLowPorts: boolean;
  },
): string {
  const home = o.launcher.startsWith('/home/') || o.launcher.startsWith('/root/');
  const caps = o.bindsLowPorts
    ? 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE'
    : 'CapabilityBoundingSet=\nAmbientCapabilities=';
  const state = o.dataDir.startsWith('/var/lib/')
    ? `StateDirectory=${o.dataDir.slice('/var/lib/'.length)}\nStateDirectoryMode=0700\n`
    : '';
  return `# Written by \`pc2 service install ${role}\`. The options are in ${o.configFile}.
[Unit]
Description=PC2 ${role === 'node' ? 'node' : role === 'supernode' ? 'super node' : 'gateway'} (pc2 ${role})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
ExecStart=${o.launcher} ${role} --config ${o.configFile}
WorkingDirectory=${o.dataDir}
Environment=HOME=${o.dataDir} NO_COLOR=1
${state}ReadWritePaths=${o.dataDir}
# Stopped by SIGTERM, pc2 exits 0; 2 (bad usage) and 3 (the name is not this key's) need a person.
Restart=on-failure
RestartSec=5s
RestartPreventExitStatus=2 3
TimeoutStopSec=20s
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=${home ? 'read-only' : 'yes'}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native
UMask=0077
${caps}
LimitNOFILE=${role === 'node' ? 65536 : 1048576}

[Install]
WantedBy=multi-user.target
`;
}

export async function runService(args: string[]): Promise<void> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const roleArgs = dash < 0 ? [] : args.slice(dash + 1);
  const parsed = parseOptions(own, SPEC, USAGE);
  if (!parsed) return;
  const o = parsed.options;
  const [action, role, ...extra] = parsed.positionals;
  if (action !== 'install')
    throw new CliError(action ? `unknown action "${action}"\n\n${USAGE}` : USAGE, EXIT.USAGE);
  if (!ROLES.includes(role as Role))
    throw new CliError(
      `pc2 service install takes node, supernode or gateway, got "${role ?? ''}"`,
      EXIT.USAGE,
    );
  if (extra.length)
    throw new CliError(`unexpected argument "${extra[0]}" (role options go after --)`, EXIT.USAGE);
  const r = role as Role;
  const dataDir = o.dataDir ?? `/var/lib/pc2/${r}`;
  const configFile = o.unitConfig ?? `/etc/pc2/${r}.json`;
  const spec = await roleSpec(r);
  // The role's options, checked by its own rules (and nothing from this shell's environment).
  const roleParsed = parseOptions(roleArgs, spec, `pc2 ${r}`, {});
  if (!roleParsed) return;
  const config = { ...dataDefaults(r, dataDir), ...configOf(spec, roleParsed.options) };
  const json = JSON.stringify(config, null, 2) + '\n';
  const unit = unitText(r, {
    user: o.user,
    dataDir,
    configFile,
    launcher: LAUNCHER,
    bindsLowPorts: privilegedPorts(r, config),
  });
  const unitFile = join(o.unitDir, `pc2-${r}.service`);
  if (o.dryRun) {
    console.log(`# ${unitFile}\n${unit}\n# ${configFile}\n${json}`);
    return;
  }
  for (const file of [unitFile, configFile])
    if (existsSync(file) && !o.force)
      throw new CliError(`${file} exists; add --force to replace it`);
  if (!existsSync(o.unitDir))
    throw new CliError(
      `--unit-dir ${o.unitDir} does not exist (is this a systemd machine?)`,
      EXIT.USAGE,
    );
  try {
    mkdirSync(dirname(configFile), { recursive: true, mode: 0o755 });
    writeFileSync(configFile, json, { mode: 0o644 });
    writeFileSync(unitFile, unit, { mode: 0o644 });
  } catch (e) {
    throw new CliError(`cannot write the service files: ${(e as Error).message}`);
  }
  console.log(`wrote ${unitFile}
wrote ${configFile}

To run it:
  id -u ${o.user} >/dev/null 2>&1 || useradd --system --home-dir ${dataDir} --shell /usr/sbin/nologin ${o.user}
  systemctl daemon-reload
  systemctl enable --now pc2-${r}.service
  journalctl -u pc2-${r}.service -f
${LAUNCHER.startsWith('/root/') || LAUNCHER.startsWith('/home/') ? `\nNote: ${LAUNCHER} is under a home directory; the ${o.user} user must be able to read this checkout (e.g. move it to /opt/pc2).\n` : ''}`);
}
