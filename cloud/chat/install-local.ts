/**
 * `npm run chat:install-local`: installs node-llama-cpp (pinned) with only this platform's CPU
 * binaries into .local/node-llama-cpp (or PC2_LLAMA_DIR), outside the project's node_modules, so
 * the project's own `npm install` never carries it (~85 MB; the GPU packages it would pull as
 * optional dependencies weigh gigabytes). Its install script is skipped: the prebuilt binaries
 * are all it needs, and it would try to download and build llama.cpp otherwise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RUNTIME_DIR, LLAMA_VERSION } from './local-backend.ts';

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-arm': 'linux-armv7l',
  'darwin-arm64': 'mac-arm64-metal',
  'darwin-x64': 'mac-x64',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
};

export function installLocalChat(dir = process.env.PC2_LLAMA_DIR || DEFAULT_RUNTIME_DIR): string {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platform)
    throw new Error(
      `node-llama-cpp ships no prebuilt binaries for ${process.platform}-${process.arch}`,
    );
  mkdirSync(dir, { recursive: true });
  const dependencies = {
    'node-llama-cpp': LLAMA_VERSION,
    [`@node-llama-cpp/${platform}`]: LLAMA_VERSION,
  };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pc2-local-chat-runtime', private: true, dependencies }, null, 2) + '\n',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(
    npm,
    [
      'install',
      '--prefix',
      dir,
      '--omit=optional',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { stdio: 'inherit' },
  );
  if (!existsSync(join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js')))
    throw new Error('node-llama-cpp did not install');
  return dir;
}

if (
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith('install-local.ts')
) {
  const dir = installLocalChat();
  console.log(
    `node-llama-cpp ${LLAMA_VERSION} (CPU) installed in ${dir}; set chat: { backend: "local", modelPath: "/path/to/model.gguf" }`,
  );
}
