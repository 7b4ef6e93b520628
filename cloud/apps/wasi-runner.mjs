// The child process of one WASM run (plain JavaScript: it is passed to `node -e`, so the child
// reads no file of the project). Argument: a JSON job. It compiles the module, gives it WASI
// preview 1 with the job's preopen only, and reports on fd 3 as JSON lines: "started" right
// before the first instruction, then "exit" with the code, or "trap"/"error" with a message.
// stdin/stdout/stderr of the module are this process's own fds 0-2, pipes to the node.
import { readFileSync, writeSync } from 'node:fs';
import { WASI } from 'node:wasi';

const job = JSON.parse(process.argv[process.argv.length - 1]);
const report = (m) => writeSync(3, JSON.stringify(m) + '\n');
try {
  const module = new WebAssembly.Module(readFileSync(job.module));
  const wasi = new WASI({
    version: 'preview1',
    args: job.args,
    env: job.env,
    preopens: job.preopen ? { '/': job.preopen } : {},
    returnOnExit: true,
    stdin: 0,
    stdout: 1,
    stderr: 2,
  });
  const instance = new WebAssembly.Instance(module, wasi.getImportObject());
  report({ type: 'started' });
  const code = wasi.start(instance);
  report({ type: 'exit', code });
  process.exitCode = 0;
} catch (e) {
  // A wasm trap, or a call stack that ran out (V8 throws a RangeError for that).
  const trap = e instanceof WebAssembly.RuntimeError || e instanceof RangeError;
  report({ type: trap ? 'trap' : 'error', message: String(e && e.message ? e.message : e) });
}
