/**
 * Long output on a terminal goes through a pager, as git does: `$SESSIONLOG_PAGER`, else
 * `$PAGER`, else `less`; with `LESS=FRX` unless the user set LESS (quit when it fits one screen,
 * keep colours, leave the text on screen). Never when stdout is not a terminal, and not with
 * `--no-pager` or a pager set to `cat` or nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** A running pager: what is written goes to it; `end` waits until the user leaves it. */
export interface Pager {
  write(text: string): void;
  end(): Promise<void>;
}

/** The pager command to run, or undefined for none. */
export function pagerCommand(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const command = (env['SESSIONLOG_PAGER'] ?? env['PAGER'] ?? 'less').trim();
  return command === '' || command === 'cat' ? undefined : command;
}

/** Starts the pager (through the shell: `$PAGER` may carry arguments); undefined when it cannot start. */
export function startPager(command: string): Pager | undefined {
  let child: ChildProcess;
  try {
    child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, LESS: process.env['LESS'] ?? 'FRX', LV: process.env['LV'] ?? '-c' } });
  } catch {
    return undefined;
  }
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  // The user quit the pager before the end (q in less): the rest is not wanted, which is no error.
  child.stdin?.on('error', () => (gone = true));
  exited.then(() => (gone = true), () => undefined);
  return {
    write(text: string): void {
      if (!gone) child.stdin?.write(text);
    },
    async end(): Promise<void> {
      child.stdin?.end();
      await exited;
    },
  };
}
