/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`\n${signal}: stopping...\n`);
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      stop().then(
        () => resolve(),
        (e) => {
          process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
          resolve();
        },
      );
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}
