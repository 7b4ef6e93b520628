/** Writes a benchmark's section of docs/benchmarks.md (replacing the section of the same title). */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

export function machine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}`;
}

export function writeSection(title: string, body: string): void {
  const text = readFileSync(FILE, 'utf8');
  const heading = `## ${title}`;
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) return writeFileSync(FILE, `${text.trimEnd()}\n\n${section}`);
  const next = text.indexOf('\n## ', start + heading.length + 1);
  writeFileSync(
    FILE,
    text.slice(0, start + 1) + section + (next < 0 ? '' : '\n' + text.slice(next + 1)),
  );
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
