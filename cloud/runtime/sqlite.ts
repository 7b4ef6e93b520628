/**
 * node:sqlite, reached through process.getBuiltinModule so the code type-checks without the
 * Node >= 22 type definitions and fails with a clear message on a Node.js without it.
 */
export type SqlValue = null | number | bigint | string | Uint8Array;

export interface Statement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...params: SqlValue[]): Record<string, SqlValue>[];
  iterate(...params: SqlValue[]): IterableIterator<Record<string, SqlValue>>;
}

export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (
    path: string,
    options?: { enableForeignKeyConstraints?: boolean; timeout?: number },
  ) => Database;
}

export function sqliteAvailable(): boolean {
  try {
    return typeof loadModule().DatabaseSync === 'function';
  } catch {
    return false;
  }
}

function loadModule(): SqliteModule {
  const get = (process as unknown as { getBuiltinModule?: (id: string) => unknown })
    .getBuiltinModule;
  const mod = get?.call(process, 'node:sqlite') as SqliteModule | undefined;
  if (!mod)
    throw new Error(
      `the personal cloud needs node:sqlite (Node.js >= 22.13); this is Node.js ${process.version}`,
    );
  return mod;
}

export function openDatabase(path: string): Database {
  const { DatabaseSync } = loadModule();
  return new DatabaseSync(path, { enableForeignKeyConstraints: false, timeout: 5000 });
}
