/**
 * Lets the portable test files (written against vitest's describe/it/expect) run under `deno test`:
 * deno.json maps the bare `vitest` import here. `expect` is vitest's own implementation
 * (@vitest/expect on chai), so assertions mean exactly what they mean under vitest.
 */
import { chai, JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

(globalThis as { PC2_EXPECTED_RUNTIME?: string }).PC2_EXPECTED_RUNTIME = 'deno';

type Hook = () => unknown | Promise<unknown>;
interface Suite {
  name: string;
  beforeAll: Hook[];
  afterAll: Hook[];
  beforeEach: Hook[];
  afterEach: Hook[];
}

const stack: Suite[] = [];
const ranBeforeAll = new WeakSet<Suite>();
const newSuite = (name: string): Suite => ({
  name,
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
});
const top = (): Suite => stack[stack.length - 1] ?? rootSuite;
const rootSuite = newSuite('');

// deno-lint-ignore no-explicit-any
export const expect: any = Object.assign(
  (value: unknown, message?: string) => chai.expect(value, message),
  chai.expect,
);

export function describe(name: string, body: () => void): void {
  const suite = newSuite(name);
  stack.push(suite);
  try {
    body();
  } finally {
    stack.pop();
  }
  if (suite.afterAll.length) {
    Deno.test({
      name: `${name} (afterAll)`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () => runHooks(suite.afterAll),
    });
  }
}

async function runHooks(hooks: Hook[]): Promise<void> {
  for (const hook of hooks) await hook();
}

export function it(name: string, fn: () => unknown | Promise<unknown>): void {
  const suites = [rootSuite, ...stack];
  const fullName = [...stack.map((s) => s.name), name].join(' > ');
  Deno.test({
    name: fullName,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      for (const s of suites) {
        if (!ranBeforeAll.has(s)) {
          ranBeforeAll.add(s);
          await runHooks(s.beforeAll);
        }
      }
      for (const s of suites) await runHooks(s.beforeEach);
      try {
        await fn();
      } finally {
        for (const s of [...suites].reverse()) await runHooks(s.afterEach);
      }
    },
  });
}

export const test = it;
export const beforeAll = (hook: Hook): void => void top().beforeAll.push(hook);
export const afterAll = (hook: Hook): void => void top().afterAll.push(hook);
export const beforeEach = (hook: Hook): void => void top().beforeEach.push(hook);
export const afterEach = (hook: Hook): void => void top().afterEach.push(hook);
