// Vitest global setup: one throwaway PostgreSQL server for the suites that test the PostgreSQL
// backend (each test store gets a schema of its own on it: test/helpers/postgres.ts), stopped and
// removed afterwards. Without the server's programs those suites are skipped, and this says so loudly.
import type { TestProject } from 'vitest/node';
import { type PgServer, pgBinDir, startPgServer } from '../helpers/pg-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the throwaway server's database, or '' when PostgreSQL is not installed. */
    pgUrl: string;
  }
}

/** Starts the server; returns what stops and removes it (Vitest calls a default export's returned function, not a named `teardown` beside it). */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const bin = pgBinDir();
  if (bin === undefined) {
    console.warn('\n*** PostgreSQL is not installed (pg_config --bindir finds no initdb): the PostgreSQL suites are SKIPPED. Install it with: apt-get install -y postgresql ***\n');
    project.provide('pgUrl', '');
    return undefined;
  }
  const server: PgServer = await startPgServer(bin);
  project.provide('pgUrl', server.url);
  return () => server.remove();
}
