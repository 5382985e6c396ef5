// The main entry never loads an agent SDK: each SDK is an optional peer of its own subpath only.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const DIST = path.resolve(import.meta.dirname, '../../dist');

/** Every built file the entry reaches through static and dynamic relative imports, and the bare packages they name. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

it('sessionlog (and the CLI) import no agent SDK; each adapter imports only its own', () => {
  const sdks = ['@anthropic-ai/claude-agent-sdk', '@langchain/langgraph-checkpoint', '@langchain/core', '@openai/agents-core'];
  for (const entry of ['index.js', 'cli/main.js']) {
    const { files, packages } = reach(path.join(DIST, entry));
    expect(files.size).toBeGreaterThan(20);
    for (const sdk of sdks) expect(packages.has(sdk)).toBe(false);
  }
  expect(reach(path.join(DIST, 'adapters/claude-agent-sdk/index.js')).packages).toContain('@anthropic-ai/claude-agent-sdk');
  expect([...reach(path.join(DIST, 'adapters/langgraph/index.js')).packages].filter((p) => sdks.includes(p))).toEqual(['@langchain/langgraph-checkpoint']);
  expect([...reach(path.join(DIST, 'adapters/openai-agents/index.js')).packages].filter((p) => sdks.includes(p))).toEqual(['@openai/agents-core']);
});
