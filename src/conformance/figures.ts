/** Conformance: tool executions, usage records, `stats`, `updateUsage` and `health`. */
import { describe, expect, it } from 'vitest';
import type { Opener } from './index.js';
import { codeOf } from './index.js';

/** Registers the figures tests. */
export function describeFigures(open: Opener): void {
  describe('figures', () => {
    it('stats: entries, tool calls and executions per tool (errors, durations), tokens per model, wall time', async () => {
      const store = await open();
      const { id } = await store.create({ model: 'model-a' });
      await store.append(id, [
        { role: 'user', content: 'go', ts: '2026-11-02T10:00:00.000Z' },
        { role: 'assistant', content: 'ok', ts: '2026-11-02T10:00:01.000Z', toolCalls: [{ id: 'c1', name: 'bash' }, { id: 'c2', name: 'read' }], usage: { input: 100, output: 10 } },
        { type: 'tool_execution', toolCallId: 'c1', name: 'bash', status: 'ok', durationMs: 120, ts: '2026-11-02T10:00:02.000Z' },
        { type: 'tool_execution', toolCallId: 'c2', name: 'read', status: 'error', startedAt: '2026-11-02T10:00:02.000Z', endedAt: '2026-11-02T10:00:02.500Z', error: 'ENOENT', ts: '2026-11-02T10:00:03.000Z' },
        { type: 'usage', model: 'model-b', usage: { input: 7, output: 3 }, ts: '2026-11-02T10:01:00.000Z' },
      ]);
      const stats = await store.stats(id);
      expect(stats.entries).toEqual({ user: 1, assistant: 1, tool_execution: 2, usage: 1 });
      expect(stats.toolCalls).toBe(2);
      expect(stats.tools['bash']).toMatchObject({ calls: 1, executions: 1, errors: 0, totalMs: 120, maxMs: 120 });
      expect(stats.tools['read']).toMatchObject({ calls: 1, executions: 1, errors: 1, totalMs: 500 });
      expect(stats.tokens['model-a']).toMatchObject({ input: 100, output: 10 });
      expect(stats.tokens['model-b']).toMatchObject({ input: 7, output: 3 });
      expect(stats.wallTimeMs).toBe(60_000);
      // Usage records count in the session's totals too.
      expect((await store.get(id))?.usage).toMatchObject({ input: 107, output: 13 });
    });

    it('updateUsage records late usage against an entry, in the totals; bad records are refused whole', async () => {
      const store = await open();
      const { id } = await store.create();
      const [message] = await store.append(id, [{ role: 'assistant', content: 'streamed' }]);
      await store.updateUsage(id, message?.id, { model: 'm', input: 40, output: 2 });
      expect((await store.get(id))?.usage).toMatchObject({ input: 40, output: 2 });
      const { entries } = await store.read(id);
      expect(entries.at(-1)).toMatchObject({ type: 'usage', entryId: message?.id, model: 'm', usage: { input: 40, output: 2 } });
      expect(await codeOf(store.append(id, [{ type: 'tool_execution', name: 'x', status: 'exploded' }]))).toBe('ERR_INVALID_ENTRY');
      expect(await codeOf(store.append(id, [{ type: 'usage', usage: { input: -1 } }]))).toBe('ERR_INVALID_ENTRY');
      expect(await codeOf(store.stats('nosuch'))).toBe('ERR_SESSION_NOT_FOUND');
    });

    it('health: ok on a working store', async () => {
      const store = await open();
      const report = await store.health();
      expect(report).toMatchObject({ ok: true, location: store.location });
      expect(report.ms).toBeGreaterThanOrEqual(0);
    });
  });
}
