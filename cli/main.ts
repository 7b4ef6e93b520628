/**
 * `pc2`: the one command of the project. Each subcommand parses its own flags into one validated
 * options object and hands it to the library that does the work.
 */
import pkg from '../package.json' with { type: 'json' };
import { CliError } from './errors.ts';

const USAGE = `pc2 <command> [options]

Commands:
  id new|show|restore   this node's identity key (Ed25519, did:boson) and recovery phrase
  node                  put this machine's PC2 app online under <name>.<zone>
  supernode             run a super node (registry, relay ingress, Active Proxy); --gateway adds the edge
  gateway               run the Node.js gateway (edge) alone
  devnet                run the whole network on loopback (what \`npm start\` runs)
  --version             this pc2's version and the runtime it runs on

Run \`pc2 <command> --help\` for the options of a command.`;

// Loaded on demand: `pc2 id` should not have to load the gateway and the super node.
const commands: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  id: async () => (await import('./id.ts')).runId,
  node: async () => (await import('./node.ts')).runNode,
  supernode: async () => (await import('./supernode.ts')).runSupernode,
  gateway: async () => (await import('./gateway.ts')).runGateway,
  devnet: async () => (await import('./devnet.ts')).runDevnet,
};

/** The runtime as a bug report needs it: the Node.js release (or Deno's, under `deno run`). */
function runtime(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node.js ${process.version}`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    console.log(`pc2 ${pkg.version} on ${runtime()} (${process.platform}-${process.arch})`);
    return;
  }
  const load = commands[command];
  if (!load) throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  await (await load())(rest);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof CliError) {
    console.error(`pc2: ${e.message}`);
    process.exit(e.exitCode);
  }
  console.error('pc2: unexpected error:', e);
  process.exit(1);
});
