/**
 * Throwaway PostgreSQL servers for tests: initdb into a temp folder (as the `postgres` user when
 * run as root: the server refuses root), a free loopback port, fsync off (durability is not what
 * these tests measure), a password for TCP connections (so tests can check it never leaks), and
 * stop / start / remove for the fault tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The password of the `postgres` role on test servers: tests check it never appears in output. */
export const PG_PASSWORD = 'sl-test-pw-3f9a1c';

/** A running (or stopped) test server. */
export interface PgServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): void;
  start(): void;
  remove(): void;
}

/** The folder of the server's programs, or undefined when PostgreSQL is not installed. */
export function pgBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return fs.existsSync(path.join(dir, 'initdb')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(asUser: string | undefined, program: string, args: readonly string[]): void {
  const [command, argv] = asUser === undefined ? [program, args] : ['runuser', ['-u', asUser, '--', program, ...args]];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${path.basename(program)} failed (${result.status}): ${result.stderr || result.stdout}`);
}

/** Creates and starts a server on a free loopback port. */
export async function startPgServer(bin: string): Promise<PgServer> {
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-pg-'));
  if (asUser !== undefined) execFileSync('chown', [asUser, dataDir]);
  const port = await freePort();
  run(asUser, path.join(bin, 'initdb'), ['-D', dataDir, '--auth-local=trust', '--auth-host=scram-sha-256', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300`;
  const pgCtl = (...args: string[]): void => run(asUser, path.join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  const start = (): void => pgCtl('-o', options, '-l', path.join(dataDir, 'server.log'), '-w', 'start');
  start();
  // Over the socket (trusted): the password TCP clients must give, and pg_trgm once in public.
  run(asUser, path.join(bin, 'psql'), ['-h', dataDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qc', `ALTER ROLE postgres PASSWORD '${PG_PASSWORD}'; CREATE EXTENSION IF NOT EXISTS pg_trgm;`]);
  return {
    url: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stop: () => pgCtl('-m', 'fast', '-w', 'stop'),
    remove: () => {
      spawnSync(asUser === undefined ? path.join(bin, 'pg_ctl') : 'runuser', [...(asUser === undefined ? [] : ['-u', asUser, '--', path.join(bin, 'pg_ctl')]), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
