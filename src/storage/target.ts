/** SQLite (the embedded default) in a file, or a Postgres server. */
export type StorageTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** A postgres:// or postgresql:// URL that parses: what picks Postgres over the SQLite file. */
export function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** `--db` of the CLI and the web server: a Postgres URL, or else a SQLite file path. */
export function databaseOption(
  db: string | undefined,
): { readonly databaseUrl: string } | { readonly databasePath: string } | Record<string, never> {
  if (db === undefined) return {};
  return isPostgresUrl(db) ? { databaseUrl: db } : { databasePath: db };
}

/** DATABASE_URL (a Postgres URL) when set, else DATABASE_PATH (a SQLite file). */
export function storageTarget(env: {
  readonly DATABASE_URL?: string | undefined;
  readonly DATABASE_PATH: string;
}): StorageTarget {
  return env.DATABASE_URL !== undefined && isPostgresUrl(env.DATABASE_URL)
    ? { kind: 'postgres', url: env.DATABASE_URL }
    : { kind: 'sqlite', path: env.DATABASE_PATH };
}
