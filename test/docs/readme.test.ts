// The README's Quick start runs as written: its first code block, saved as an .mjs file, on the
// Node that runs the tests (20 here), importing the built package by name.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeBlocks, ROOT, runBlock } from './blocks.js';

describe('README', () => {
  it('Quick start: the first code block runs as an .mjs file', async () => {
    const [first] = codeBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Quick start');
    expect(first).toContain("from 'sessionlog'");
    const { dir, stderr } = await runBlock(first as string);
    expect(stderr).toBe('');
    const sessions = fs.readdirSync(path.join(dir, 'sessions')).filter((name) => name.endsWith('.jsonl'));
    // The session and its fork.
    expect(sessions).toHaveLength(2);
  });

  it('The command line: the repair-then-doctor example runs as written and prints healthy', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = codeBlocks(readme, 'The command line', '').find((b) => b.includes('echo healthy')) as string;
    const commands = block.split('\n').filter((line) => line.startsWith('$ ')).map((line) => line.slice(2));
    expect(commands).toHaveLength(3);
    const samples = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-readme-')), 'samples');
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-bin-'));
    fs.writeFileSync(path.join(bin, 'sessionlog'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'dist/cli/main.js'))} "$@"\n`, { mode: 0o755 });
    try {
      const script = commands.map((c) => c.replaceAll('/tmp/samples', samples)).join(' && ');
      const out = execFileSync('sh', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
      expect(out.trimEnd().split('\n').at(-1)).toBe(block.trimEnd().split('\n').at(-1));
    } finally {
      fs.rmSync(path.dirname(samples), { recursive: true, force: true });
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
