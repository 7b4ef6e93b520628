/**
 * The import rule of docs/layout.md, checked over the whole tree: the roles (edge, origin, agent,
 * cloud) import only themselves and shared/; shared/ imports nothing of the project and nothing of
 * Node.js (no node: modules, no Buffer); the edge core imports no runtime (only edge/runtime/ may
 * be runtime-specific); only cli/ composes roles, and nothing of the product imports tests/ or bench/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROLES = ['edge', 'origin', 'agent', 'cloud'];
const PRODUCT = ['shared', ...ROLES, 'cli'];

/** Every module specifier a file imports: static, re-exported, dynamic, and worker entry URLs. */
export function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bnew\s+URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]);
  return found;
}

const top = (path: string) => path.split('/')[0];

/** The rule broken by `file` (a path from the repository root) importing `spec`, or null. */
export function violation(file: string, spec: string, source: string): string | null {
  const from = top(file);
  if (from === 'shared') {
    if (spec.startsWith('node:')) return 'shared/ uses Web APIs only (no node: modules)';
    if (/\bBuffer\b/.test(source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
      return 'shared/ uses Web APIs only (no Buffer)';
  }
  if (from === 'edge' && !file.startsWith('edge/runtime/') && spec.startsWith('node:'))
    return 'the edge core uses Web APIs only (runtime code lives in edge/runtime/)';
  if (!spec.startsWith('.')) return null;
  const target = normalize(join(dirname(file), spec)).replaceAll('\\', '/');
  const to = top(target);
  if (from === 'edge' && !file.startsWith('edge/runtime/') && target.startsWith('edge/runtime/'))
    return 'the edge core does not import a runtime';
  if (!PRODUCT.includes(from)) return null;
  // Packages installed on demand (`npm run chat:install-local`), like node_modules.
  if (to === '.local') return null;
  if (to === 'tests' || to === 'bench') return `${from}/ does not import ${to}/`;
  if (from === 'cli') return null;
  if (to === 'cli') return 'only cli/ composes; nothing imports it';
  if (from === 'shared' && to !== 'shared') return 'shared/ imports nothing of the project';
  if (ROLES.includes(from) && to !== from && to !== 'shared')
    return `${from}/ imports only itself and shared/ (roles meet over the wire; cli/ composes them)`;
  return null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).replaceAll('\\', '/'));
}

describe('the import rule', () => {
  it('holds over the whole product tree', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const dir of PRODUCT) {
      let files: string[];
      try {
        files = sourceFiles(dir);
      } catch {
        continue; // a role folder not there (yet)
      }
      for (const file of files) {
        const source = readFileSync(join(ROOT, file), 'utf8');
        for (const spec of specifiers(source)) {
          checked++;
          const why = violation(file, spec, source);
          if (why) broken.push(`${file} imports ${spec}: ${why}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(broken).toEqual([]);
  });

  it('catches each kind of break', () => {
    const cases: [string, string, string][] = [
      ['agent/node-agent.ts', '../edge/app.ts', 'agent/ imports only itself'],
      ['origin/tunnel/server.ts', '../../agent/tunnel/client.ts', 'origin/ imports only itself'],
      ['cloud/files.ts', '../origin/supernode.ts', 'cloud/ imports only itself'],
      ['edge/app.ts', '../cli/main.ts', 'only cli/ composes'],
      ['shared/keys.ts', '../edge/app.ts', 'shared/ imports nothing of the project'],
      ['shared/keys.ts', 'node:crypto', 'no node: modules'],
      ['edge/forward.ts', 'node:http', 'the edge core uses Web APIs only'],
      ['edge/app.ts', './runtime/node/server.ts', 'the edge core does not import a runtime'],
      ['origin/supernode.ts', '../tests/helpers/ports.ts', 'does not import tests/'],
    ];
    for (const [file, spec, why] of cases)
      expect(violation(file, spec, ''), `${file} -> ${spec}`).toContain(why);
    expect(violation('shared/bytes.ts', './base58.ts', 'const b = Buffer.from(x);')).toContain(
      'no Buffer',
    );
    for (const [file, spec] of [
      ['cli/devnet.ts', '../origin/supernode.ts'],
      ['edge/runtime/node/server.ts', 'node:http'],
      ['edge/runtime/deno.ts', '../app.ts'],
      ['origin/ingress/ingress.ts', '../../shared/id.ts'],
    ]) {
      expect(violation(file, spec, ''), `${file} -> ${spec}`).toBeNull();
    }
  });

  it('reads every form of import', () => {
    const source = `import a from './a.ts';\nimport {\n  b,\n} from "../b.ts";\nexport * from './c.ts';\nimport './d.ts';\nconst e = await import('./e.ts');\nnew URL('./f.ts', import.meta.url);\n// import g from './g.ts';\nconst url = 'http://x/y';`;
    expect(specifiers(source)).toEqual([
      './a.ts',
      '../b.ts',
      './c.ts',
      './d.ts',
      './e.ts',
      './f.ts',
    ]);
  });
});
