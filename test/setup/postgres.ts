// Vitest global setup: a throwaway PostgreSQL server for the suites that test the PostgreSQL
// backend. initdb into a temp folder (as the `postgres` user when run as root: the server refuses
// root), a free loopback port, fsync off (a test server: durability is not what these tests
// measure), stopped and removed afterwards. Without the server's programs the PostgreSQL suites
// are skipped, and this says so loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the throwaway server's database, or '' when PostgreSQL is not installed. */
    pgUrl: string;
    /** Its data folder and programs, for tests that stop and restart it. */
    pgControl: { readonly dataDir: string; readonly binDir: string; readonly port: number; readonly asUser: string | undefined } | undefined;
  }
}

let stop: (() => void) | undefined;

function binDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return fs.existsSync(path.join(dir, 'initdb')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a server program, as the postgres user when we are root. */
function run(asUser: string | undefined, program: string, args: readonly string[]): void {
  const [command, argv] = asUser === undefined ? [program, args] : ['runuser', ['-u', asUser, '--', program, ...args]];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${path.basename(program)} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export default async function setup(project: TestProject): Promise<void> {
  const bin = binDir();
  if (bin === undefined) {
    console.warn('\n*** PostgreSQL is not installed (pg_config --bindir finds no initdb): the PostgreSQL suites are SKIPPED. Install it with: apt-get install -y postgresql ***\n');
    project.provide('pgUrl', '');
    project.provide('pgControl', undefined);
    return;
  }
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-pg-'));
  if (asUser !== undefined) execFileSync('chown', [asUser, dataDir]);
  const port = await freePort();
  run(asUser, path.join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300`;
  run(asUser, path.join(bin, 'pg_ctl'), ['-D', dataDir, '-o', options, '-l', path.join(dataDir, 'server.log'), '-w', 'start']);
  stop = () => {
    spawnSync(asUser === undefined ? path.join(bin, 'pg_ctl') : 'runuser', [...(asUser === undefined ? [] : ['-u', asUser, '--', path.join(bin, 'pg_ctl')]), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  // pg_trgm once, in public: every test store's schema puts public on its search path.
  run(asUser, path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qc', 'CREATE EXTENSION IF NOT EXISTS pg_trgm']);
  project.provide('pgUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
  project.provide('pgControl', { dataDir, binDir: bin, port, asUser });
}

export function teardown(): void {
  stop?.();
}
