#!/usr/bin/env node
/**
 * The sessionlog command line: browse, follow, search, check and repair session transcripts.
 * Thin over the store: each command parses its options, calls the library, prints, and returns
 * an exit code (see EXIT in context.ts and docs/cli.md).
 */
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT, reportError } from './context.js';
import { registerCheck } from './commands/check.js';
import { registerCompletion } from './commands/completion.js';
import { registerEdit } from './commands/edit.js';
import { registerList } from './commands/list.js';
import { registerMcp } from './commands/mcp.js';
import { registerMerge } from './commands/merge.js';
import { registerRead } from './commands/read.js';
import { registerReindex } from './commands/reindex.js';
import { registerSearch } from './commands/search.js';
import { registerRetention } from './commands/retention.js';
import { registerSecrets } from './commands/secrets.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { registerImport } from './commands/import.js';
import { registerTransfer } from './commands/transfer.js';
import { registerWrite } from './commands/write.js';

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

const program = new Command('sessionlog')
  .description('Browse, follow, search, check and repair the session transcripts of a sessionlog store.')
  .option('--dir <folder>', 'store folder (default: $SESSIONLOG_DIR, else $XDG_DATA_HOME/sessionlog or ~/.local/share/sessionlog)')
  .option('--no-color', 'no colour (also when NO_COLOR is set or output is not a terminal)')
  .option('--no-pager', 'do not page long output (it is paged only on a terminal: $SESSIONLOG_PAGER, $PAGER or less)')
  .version(version(), '-V, --version')
  .configureHelp({ showGlobalOptions: true })
  // Errors are reported once, as one line, by main below; commander must not print or exit.
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .addHelpText(
    'after',
    `
Sessions are named by id, by any unique prefix of the id (like git), or @ for the latest one.
Exit codes: 0 ok, 1 problems found or nothing found, 2 usage error. See docs/cli.md.

Examples:
  $ sessionlog list
  $ sessionlog show @ --tail 20
  $ sessionlog tail -f 0190a3
  $ sessionlog search "ERR_REQUIRE_ESM"
  $ sessionlog doctor && echo healthy`,
  );

registerList(program);
registerRead(program);
registerSearch(program);
registerStats(program);
registerCheck(program);
registerMerge(program);
registerReindex(program);
registerWrite(program);
registerEdit(program);
registerTransfer(program);
registerImport(program);
registerServe(program);
registerSecrets(program);
registerRetention(program);
registerMcp(program);
// Last: it describes the commands registered before it.
registerCompletion(program);

// Output cut short by `| head` is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
    throw err;
  });
}

/** Runs the command line; resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      // `sessionlog` without a command: the help went to stderr.
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return EXIT.USAGE;
      const message = err.message.replace(/^error: /, '');
      process.stderr.write(`sessionlog: ERR_USAGE: ${message} (see sessionlog --help)\n`);
      return EXIT.USAGE;
    }
    return reportError(err);
  }
}

process.exit(await main(process.argv));
