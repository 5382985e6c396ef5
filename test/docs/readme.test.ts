// The README's Quick start runs as written: its first code block, saved as an .mjs file, on the
// Node that runs the tests (20 here), importing the built package by name.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The fenced code blocks of a markdown section, in order. */
function codeBlocks(markdown: string, heading: string): string[] {
  const section = markdown.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/```(?:js|ts|mjs)\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

describe('README', () => {
  it('Quick start: the first code block runs as an .mjs file', async () => {
    const [first] = codeBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Quick start');
    expect(first).toContain("from 'sessionlog'");
    // Inside the package folder, so `import 'sessionlog'` resolves to this package by its name.
    const dir = fs.mkdtempSync(path.join(ROOT, '.tmp-readme-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'quickstart.mjs'), first as string);
    // Rejects (and fails the test with its stderr) on a non-zero exit.
    const result = await promisify(execFile)(process.execPath, ['quickstart.mjs'], { cwd: dir });
    expect(result.stderr).toBe('');
    const sessions = fs.readdirSync(path.join(dir, 'sessions')).filter((name) => name.endsWith('.jsonl'));
    // The session and its fork.
    expect(sessions).toHaveLength(2);
  });
});
