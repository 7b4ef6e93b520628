/**
 * Which files the search indexes by content, and their text: plain text, Markdown and code by
 * extension (or a stored text/* type), read up to a bound and decoded as UTF-8. A file with a NUL
 * byte in its first 8 KiB is binary whatever its name says, and is indexed by name only.
 */
import { open } from 'node:fs/promises';

const TEXT_EXTENSIONS = new Set([
  'txt',
  'text',
  'md',
  'markdown',
  'mdx',
  'rst',
  'adoc',
  'org',
  'tex',
  'csv',
  'tsv',
  'log',
  'json',
  'jsonl',
  'ndjson',
  'yaml',
  'yml',
  'toml',
  'ini',
  'cfg',
  'conf',
  'env',
  'xml',
  'html',
  'htm',
  'css',
  'scss',
  'less',
  'svg',
  'js',
  'mjs',
  'cjs',
  'jsx',
  'ts',
  'tsx',
  'mts',
  'cts',
  'vue',
  'svelte',
  'py',
  'rb',
  'go',
  'rs',
  'c',
  'h',
  'cc',
  'cpp',
  'hpp',
  'cxx',
  'java',
  'kt',
  'kts',
  'swift',
  'scala',
  'cs',
  'fs',
  'php',
  'pl',
  'lua',
  'r',
  'sql',
  'sh',
  'bash',
  'zsh',
  'fish',
  'ps1',
  'bat',
  'dart',
  'ex',
  'exs',
  'erl',
  'hs',
  'ml',
  'clj',
  'nim',
  'zig',
  'wat',
  'proto',
  'graphql',
  'gradle',
  'cmake',
  'mk',
  'dockerfile',
  'makefile',
  'gitignore',
  'properties',
  'srt',
  'vtt',
]);

export function isTextual(name: string, storedType: string | null): boolean {
  if (storedType && /^text\//i.test(storedType)) return true;
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  return TEXT_EXTENSIONS.has(dot >= 0 ? lower.slice(dot + 1) : lower);
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The first `maxBytes` of a file as text, or null when it looks binary. */
export async function readText(
  path: string,
  size: number,
  maxBytes: number,
): Promise<string | null> {
  const n = Math.min(size, maxBytes);
  if (n === 0) return '';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const head = buf.subarray(0, Math.min(got, 8192));
    if (head.includes(0)) return null;
    // A cut in the middle of a multi-byte character decodes to U+FFFD, which no query matches.
    return decoder.decode(buf.subarray(0, got));
  } finally {
    await fh.close();
  }
}
