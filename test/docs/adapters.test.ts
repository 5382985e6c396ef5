// docs/adapters.md's snippets run as written, with the SDKs installed as devDependencies.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { codeBlocks, ROOT, runBlock } from './blocks.js';

const blocks = codeBlocks(fs.readFileSync(path.join(ROOT, 'docs/adapters.md'), 'utf8'), undefined, 'js');

it('has the three adapters\' snippets', () => {
  expect(blocks.map((code) => /from 'sessionlog\/([a-z-]+)'/.exec(code)?.[1])).toEqual(['claude-agent-sdk', 'langgraph', 'openai-agents']);
});

it('Claude Agent SDK: a retried batch is stored once, and the session is listed', async () => {
  const { stdout } = await runBlock(blocks[0]!);
  expect(stdout).toMatch(/^1 \[\s*\{\s*sessionId: '7f9c1d2e-5b6a-4c3d-8e9f-0a1b2c3d4e5f',\s*mtime: \d{13}\s*\}\s*\]/);
});

it('LangGraph: the second invoke resumes the thread', async () => {
  const { stdout } = await runBlock(blocks[1]!);
  expect(stdout.trim()).toBe("[ 'note 1', 'note 2' ]");
});

it('OpenAI Agents: the latest item, then popped', async () => {
  const { stdout } = await runBlock(blocks[2]!);
  expect(stdout.trim()).toBe('assistant assistant 1');
});
