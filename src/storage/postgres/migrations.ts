import { type Dialect, migrations } from '../migrations.ts';

/**
 * Postgres words for the one schema (../migrations.ts): BIGINT for the millisecond timestamps, DOUBLE
 * PRECISION for REAL, TEXT for SQLite's ANY, no STRICT (Postgres types are always strict), and an identity
 * column `seq` on analyses and jobs that stands in for SQLite's rowid.
 */
export const POSTGRES: Dialect = {
  ms: 'BIGINT',
  real: 'DOUBLE PRECISION',
  any: 'TEXT',
  strict: '',
  strictWithoutRowid: '',
  seq: '\n        seq BIGINT GENERATED ALWAYS AS IDENTITY,',
};

/** The schema in Postgres DDL, with the same version numbers, tables and columns as the SQLite one. */
export const PG_MIGRATIONS = migrations(POSTGRES);
