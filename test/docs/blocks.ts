/** Running a document's code blocks as they are written: each saved as an .mjs file in the package folder. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The fenced js/ts/mjs code blocks of a markdown text (or of one `## heading` section of it), in order. */
export function codeBlocks(markdown: string, heading?: string, languages = 'js|ts|mjs'): string[] {
  const section = heading === undefined ? markdown : (markdown.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '');
  return [...section.matchAll(new RegExp(`\`\`\`(?:${languages})\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1] as string);
}

/**
 * Runs `code` as an .mjs file in a fresh folder inside the package (so `import 'sessionlog'`
 * resolves to this package by its name); rejects with its stderr on a non-zero exit.
 */
export async function runBlock(code: string): Promise<{ dir: string; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(ROOT, '.tmp-docs-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'block.mjs'), code);
  const result = await promisify(execFile)(process.execPath, ['block.mjs'], { cwd: dir });
  return { dir, ...result };
}
