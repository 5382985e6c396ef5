/** Which folder the CLI works on: `--dir`, else `SESSIONLOG_DIR`, else the per-user data folder. */
import os from 'node:os';
import path from 'node:path';

/** Where a store folder came from, for messages. */
export type DirSource = '--dir' | 'SESSIONLOG_DIR' | 'default';

/**
 * The per-user data folder: `$XDG_DATA_HOME/sessionlog` (when set to an absolute path, as the XDG
 * spec requires) else `~/.local/share/sessionlog` on Linux and other Unixes;
 * `~/Library/Application Support/sessionlog` on macOS; `%LOCALAPPDATA%\sessionlog` on Windows.
 */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(home, 'AppData', 'Local'), 'sessionlog');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'sessionlog');
  const xdg = env['XDG_DATA_HOME'];
  return path.join(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share'), 'sessionlog');
}

/** The store folder and where it came from. An empty `SESSIONLOG_DIR` counts as unset. */
export function resolveStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { dir: string; source: DirSource } {
  if (flag !== undefined) return { dir: path.resolve(flag), source: '--dir' };
  const fromEnv = env['SESSIONLOG_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: path.resolve(fromEnv), source: 'SESSIONLOG_DIR' };
  return { dir: defaultStoreDir(env), source: 'default' };
}
