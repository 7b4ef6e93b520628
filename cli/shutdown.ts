/**
 * How every long-running command ends: it runs until SIGINT (Ctrl-C) or SIGTERM (systemctl stop),
 * then runs `stop` once and exits 0, on a terminal, under systemd and through `npx pc2` or an npm
 * script alike (a clean stop is success, so a service manager does not count it as a failure). A
 * second signal while stopping exits at once with 130; a stop that takes over 10 s exits 1.
 */
import { EXIT } from './errors.ts';

export const STOP_TIMEOUT_MS = 10_000;
export const EXIT_FORCED = 130;

export function onShutdown(stop: () => Promise<void>): Promise<never> {
  return new Promise<never>(() => {
    // Nothing else may be holding the process open (a direct-mode node has no socket of its own).
    const alive = setInterval(() => {}, 1 << 30);
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(EXIT_FORCED);
      stopping = true;
      process.stderr.write(`\n${signal}: stopping...\n`);
      setTimeout(() => {
        process.stderr.write(`still stopping after ${STOP_TIMEOUT_MS / 1000} s: giving up\n`);
        process.exit(EXIT.ERROR);
      }, STOP_TIMEOUT_MS).unref();
      stop().then(
        () => {
          clearInterval(alive);
          process.exit(EXIT.OK);
        },
        (e) => {
          process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
          process.exit(EXIT.ERROR);
        },
      );
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
