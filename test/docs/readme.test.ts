// The README's Quick start runs as written: its first code block, saved as an .mjs file, on the
// Node that runs the tests (20 here), importing the built package by name.
import fs from 'node:fs';
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
});
