/** Which folder the CLI works on: `--dir`, else `SESSIONLOG_DIR`, else the per-user data folder. */
import envPaths from 'env-paths';
import path from 'node:path';

/** Where a store folder came from, for messages. */
export type DirSource = '--dir' | 'SESSIONLOG_DIR' | 'default';

/**
 * The per-user data folder, from env-paths: `$XDG_DATA_HOME/sessionlog`, else
 * `~/.local/share/sessionlog` on Linux and other Unixes; `~/Library/Application Support/sessionlog`
 * on macOS; `%LOCALAPPDATA%\sessionlog\Data` on Windows.
 */
export function defaultStoreDir(): string {
  return envPaths('sessionlog', { suffix: '' }).data;
}

/** The store folder and where it came from. An empty `SESSIONLOG_DIR` counts as unset. */
export function resolveStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { dir: string; source: DirSource } {
  if (flag !== undefined) return { dir: path.resolve(flag), source: '--dir' };
  const fromEnv = env['SESSIONLOG_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: path.resolve(fromEnv), source: 'SESSIONLOG_DIR' };
  return { dir: defaultStoreDir(), source: 'default' };
}
