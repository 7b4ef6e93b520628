/** The flags of the personal cloud `pc2 node` serves by default, and their cloud options. */
import { dirname, join, resolve } from 'node:path';
import type { CloudOptions } from '../cloud/index.ts';
import type { Logger } from '../shared/logger.ts';
import { CliError, EXIT } from './errors.ts';
import { DEFAULT_IDENTITY_KEY } from './keyfile.ts';
import type { OptionSpec } from './options.ts';
import { listenNodeCloud, ownerCodeLine } from './node-cloud.ts';

export const CLOUD_SPEC = {
  cloudDir: {
    kind: 'string',
    value: '<dir>',
    description:
      "the personal cloud's data (files, database); default a cloud/ directory beside --key, e.g. ~/.pc2/cloud",
  },
  cloudOrigin: {
    kind: 'list',
    value: '<origin>',
    description:
      'another public origin of the cloud besides the name (e.g. your own domain in front)',
    default: [],
    url: ['http:', 'https:'],
  },
  chatUrl: {
    kind: 'string',
    value: '<url>',
    description: 'chat backend: an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1',
    url: ['http:', 'https:'],
  },
  chatModel: {
    kind: 'string',
    value: '<model>',
    description: 'the model --chat-url serves, e.g. llama3.2',
  },
  chatApiKey: {
    kind: 'string',
    value: '<key>',
    description: "--chat-url's API key (better from the environment: it never reaches a browser)",
  },
  chatModelFile: {
    kind: 'string',
    value: '<file.gguf>',
    description: 'chat backend: a local GGUF model run on the CPU (npm run chat:install-local)',
  },
} as const satisfies Record<string, OptionSpec>;

export interface CloudFlags {
  key: string;
  cloudDir?: string;
  chatUrl?: string;
  chatModel?: string;
  chatApiKey?: string;
  chatModelFile?: string;
}

/** The cloud's data directory: --cloud-dir, else cloud/ beside the identity key. */
export function cloudDirOf(o: { key?: string; cloudDir?: string }): string {
  return resolve(o.cloudDir ?? join(dirname(o.key ?? DEFAULT_IDENTITY_KEY), 'cloud'));
}

/** The chat backend the flags give (checked together: one backend, complete), if any. */
export function chatOptions(o: Omit<CloudFlags, 'key' | 'cloudDir'>): CloudOptions['chat'] {
  if (o.chatUrl && o.chatModelFile)
    throw new CliError('give --chat-url or --chat-model-file, not both', EXIT.USAGE);
  if (o.chatModelFile && o.chatModel)
    throw new CliError('--chat-model is for --chat-url (a GGUF file is its own model)', EXIT.USAGE);
  if (Boolean(o.chatUrl) !== Boolean(o.chatModel))
    throw new CliError('--chat-url and --chat-model go together', EXIT.USAGE);
  if (o.chatApiKey && !o.chatUrl)
    throw new CliError('--chat-api-key is for --chat-url', EXIT.USAGE);
  if (o.chatUrl)
    return {
      backend: 'openai',
      url: o.chatUrl,
      model: o.chatModel!,
      ...(o.chatApiKey ? { apiKey: o.chatApiKey } : {}),
    };
  if (o.chatModelFile) return { backend: 'local', modelPath: resolve(o.chatModelFile) };
  return undefined;
}

/** The cloud options the flags give. */
export function cloudOptions(o: CloudFlags, logger: Logger): Omit<CloudOptions, 'origins'> {
  const chat = chatOptions(o);
  return { dataDir: cloudDirOf(o), logger, ...(chat ? { chat } : {}) };
}

export const CHAT_SPEC = {
  chatUrl: CLOUD_SPEC.chatUrl,
  chatModel: CLOUD_SPEC.chatModel,
  chatApiKey: CLOUD_SPEC.chatApiKey,
  chatModelFile: CLOUD_SPEC.chatModelFile,
} as const;

/** The cloud on loopback for the agent; `open` creates it for the public origins and returns the owner-code line. */
export async function startCloudUpstream(options: Omit<CloudOptions, 'origins'>): Promise<{
  url: string;
  open(origins: string[]): Promise<string | null>;
  close(): Promise<void>;
}> {
  const running = await listenNodeCloud(options);
  return {
    url: running.url,
    open: async (origins) => {
      let cloud;
      try {
        cloud = await running.open(origins);
      } catch (e) {
        throw new CliError(`the personal cloud cannot start: ${(e as Error).message}`);
      }
      return ownerCodeLine(cloud, origins[0] ?? running.url);
    },
    close: () => running.close(),
  };
}
