#!/usr/bin/env node
/**
 * The sessionlog command line. Thin over the store: parse, call, print, exit code.
 * (The full command set is issue 4; this entry point lists and shows sessions.)
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { openStore } from '../index.js';
import { idFromFileName } from '../fs/paths.js';

const program = new Command('sessionlog')
  .description('Browse and check sessionlog session stores.')
  .option('--dir <dir>', 'store folder (default: $SESSIONLOG_DIR)');

function storeDir(): string {
  const dir = (program.opts() as { dir?: string }).dir ?? process.env['SESSIONLOG_DIR'];
  if (dir === undefined) {
    process.stderr.write('sessionlog: ERR_INVALID_OPTION: no store folder; pass --dir or set SESSIONLOG_DIR\n');
    process.exit(2);
  }
  return dir;
}

program
  .command('list')
  .description('list sessions, newest first')
  .action(async () => {
    const store = await openStore({ dir: storeDir() });
    const ids = fs.readdirSync(store.dir).flatMap((name) => idFromFileName(name) ?? []);
    const infos = (await Promise.all(ids.map((id) => store.get(id)))).flatMap((info) => info ?? []);
    infos.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    for (const info of infos) {
      process.stdout.write(`${info.id}  ${info.updatedAt}  ${String(info.entryCount).padStart(4)}  ${info.title ?? ''}\n`);
    }
    await store.close();
  });

program
  .command('show <id>')
  .description('print a session transcript')
  .action(async (id: string) => {
    const store = await openStore({ dir: storeDir() });
    const { entries, problems } = await store.read(id);
    for (const entry of entries) {
      const role = 'role' in entry ? String(entry.role) : entry.type;
      const content = 'content' in entry ? entry.content : 'summary' in entry ? entry.summary : '';
      const text = typeof content === 'string' ? content : JSON.stringify(content);
      process.stdout.write(`${role}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}\n`);
    }
    for (const problem of problems) process.stdout.write(`! line ${problem.line ?? '?'}: ${problem.kind}\n`);
    await store.close();
  });

await program.parseAsync();
