// `npm run torture`: the whole reliability matrix at full scale. Runs the reliability rows (and
// the core tests that carry rows of the matrix) with SESSIONLOG_TORTURE=full, collects the figure
// each row prints, and writes them into docs/reliability.md between the figure markers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const figuresFile = path.join(os.tmpdir(), `sessionlog-figures-${process.pid}.jsonl`);
fs.rmSync(figuresFile, { force: true });
const started = Date.now();
const run = spawnSync('npx', ['vitest', 'run', 'test/reliability', 'test/core', '--reporter=dot'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SESSIONLOG_TORTURE: 'full', SESSIONLOG_FIGURES: figuresFile },
});
const minutes = ((Date.now() - started) / 60000).toFixed(1);
const figures = fs.existsSync(figuresFile) ? fs.readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
figures.sort((a, b) => a.row.localeCompare(b.row, 'en', { numeric: true }));

const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.arch();
// df names ext4 as ext4 (stat -f reports the ext2/ext3 magic number for all three).
const fsType = spawnSync('df', ['--output=fstype', os.tmpdir()], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1) ?? 'unknown';
const table = [
  `Last full run: ${new Date().toISOString().slice(0, 10)}, ${minutes} min, ${run.status === 0 ? 'all rows passed' : 'SOME ROWS FAILED'}.`,
  `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}, temp dir on ${fsType}.`,
  '',
  '| row | figure |',
  '|---|---|',
  ...figures.map((f) => `| ${f.row} | ${f.text.replaceAll('|', '\\|')} |`),
].join('\n');
console.log(`\n${table}\n`);

const doc = path.join(root, 'docs/reliability.md');
const text = fs.readFileSync(doc, 'utf8');
const start = '<!-- figures:start -->';
const end = '<!-- figures:end -->';
if (text.includes(start) && text.includes(end) && run.status === 0) {
  fs.writeFileSync(doc, `${text.slice(0, text.indexOf(start) + start.length)}\n${table}\n${text.slice(text.indexOf(end))}`);
  console.log('figures written to docs/reliability.md');
}
fs.rmSync(figuresFile, { force: true });
process.exit(run.status ?? 1);
