/** What kind of file an entry is, for its icon and its preview. */
import type { IconName } from './icons.ts';
import { extension } from './format.ts';

export type Kind =
  | 'folder'
  | 'image'
  | 'video'
  | 'audio'
  | 'pdf'
  | 'text'
  | 'code'
  | 'markup'
  | 'archive'
  | 'wasm'
  | 'other';

const TEXT = new Set([
  'txt',
  'md',
  'markdown',
  'csv',
  'tsv',
  'log',
  'json',
  'yaml',
  'yml',
  'toml',
  'ini',
  'conf',
  'cfg',
  'env',
  'srt',
  'vtt',
]);
const CODE = new Set([
  'js',
  'mjs',
  'cjs',
  'ts',
  'tsx',
  'jsx',
  'py',
  'rb',
  'go',
  'rs',
  'c',
  'h',
  'cpp',
  'hpp',
  'java',
  'kt',
  'swift',
  'sh',
  'bash',
  'zsh',
  'css',
  'scss',
  'sql',
  'lua',
  'php',
  'pl',
  'r',
  'dart',
  'zig',
  'wat',
]);
const MARKUP = new Set(['html', 'htm', 'xhtml', 'xml', 'svg']);
const ARCHIVE = new Set(['zip', 'gz', 'tgz', 'tar', 'bz2', 'xz', 'zst', '7z', 'rar']);
const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'bmp', 'ico']);
const VIDEO = new Set(['mp4', 'm4v', 'webm', 'ogv', 'mov']);
const AUDIO = new Set(['mp3', 'ogg', 'oga', 'opus', 'wav', 'flac', 'm4a', 'aac']);

export function kindOf(e: { name: string; dir: boolean; type?: string | null }): Kind {
  if (e.dir) return 'folder';
  const ext = extension(e.name);
  const type = (e.type ?? '').split(';')[0];
  if (ext === 'svg') return 'markup';
  if (ext === 'wasm' || type === 'application/wasm') return 'wasm';
  if (IMAGE.has(ext) || type.startsWith('image/')) return 'image';
  if (VIDEO.has(ext) || type.startsWith('video/')) return 'video';
  if (AUDIO.has(ext) || type.startsWith('audio/')) return 'audio';
  if (ext === 'pdf' || type === 'application/pdf') return 'pdf';
  if (MARKUP.has(ext)) return 'markup';
  if (CODE.has(ext)) return 'code';
  if (TEXT.has(ext) || type.startsWith('text/') || type === 'application/json') return 'text';
  if (ARCHIVE.has(ext)) return 'archive';
  return 'other';
}

const ICONS: Record<Kind, IconName> = {
  folder: 'folder',
  image: 'image',
  video: 'video',
  audio: 'audio',
  pdf: 'pdf',
  text: 'text',
  code: 'code',
  markup: 'code',
  archive: 'archive',
  wasm: 'code',
  other: 'file',
};

export const iconOf = (kind: Kind): IconName => ICONS[kind];

/** Kinds the browser can show from the server's sandboxed responses or as text. */
export const previewable = (kind: Kind): boolean =>
  kind !== 'folder' && kind !== 'archive' && kind !== 'wasm' && kind !== 'other';
