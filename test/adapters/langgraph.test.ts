// SessionlogSaver beyond LangGraph's suite: a thread outlives the saver (a new one on the same
// folder resumes it), another process's checkpoints are seen, and a thread is a session the CLI reads.
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { emptyCheckpoint, uuid6 } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { SessionlogSaver, threadSessionId } from '../../src/adapters/langgraph/index.js';
import { runCli } from '../cli/run.js';
import { tempDir } from '../helpers/tmp.js';

function checkpoint(values: Record<string, unknown>) {
  const base = emptyCheckpoint();
  return { ...base, id: uuid6(-1), channel_values: values, channel_versions: Object.fromEntries(Object.keys(values).map((k) => [k, 1])) };
}

describe('SessionlogSaver', () => {
  it('a new saver on the same folder resumes the thread; a second saver sees the first one\'s later checkpoints', async () => {
    const dir = tempDir();
    const a = new SessionlogSaver({ dir });
    const config = { configurable: { thread_id: 'support/42 ü' } };
    const first = checkpoint({ messages: ['hi'] });
    const saved = await a.put(config, first, { source: 'input', step: -1, parents: {} }, { messages: 1 });
    await a.putWrites(saved, [['messages', ['hello back']]], 'task-1');
    const b = new SessionlogSaver({ dir });
    const tuple = await b.getTuple(config);
    expect(tuple?.checkpoint.channel_values).toEqual({ messages: ['hi'] });
    expect(tuple?.pendingWrites).toEqual([['task-1', 'messages', ['hello back']]]);
    const second = { ...checkpoint({ messages: ['hi', 'hello back'] }), channel_versions: { messages: 2 } };
    await a.put(saved, second, { source: 'loop', step: 0, parents: {} }, { messages: 2 });
    const latest = await b.getTuple(config);
    expect(latest?.checkpoint.id).toBe(second.id);
    expect(latest?.parentConfig?.configurable?.['checkpoint_id']).toBe(first.id);
    // b writes against a's checkpoint; a, whose own writes are folded unverified, sees it in order.
    await b.putWrites({ configurable: { ...config.configurable, checkpoint_ns: '', checkpoint_id: second.id } }, [['messages', ['from b']]], 'task-b');
    expect((await a.getTuple(config))?.pendingWrites).toEqual([['task-b', 'messages', ['from b']]]);
    const listed = [];
    for await (const t of b.list(config, { filter: { source: 'loop' } })) listed.push(t.checkpoint.id);
    expect(listed).toEqual([second.id]);
    await Promise.all([a.close(), b.close()]);

    const id = threadSessionId('support/42 ü');
    expect(id).toMatch(/^support_42\.[0-9a-f]{12}$/);
    const show = await runCli(['show', id, '--full'], { dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('langgraph.checkpoint');
    const search = await runCli(['search', 'hello back', '--json'], { dir });
    expect(search.stdout).toContain(id);
  });

  it('a LangGraph graph resumes its thread from the folder in a new saver, with its whole state history', async () => {
    const dir = tempDir();
    const State = Annotation.Root({ notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    const savers: SessionlogSaver[] = [];
    const compile = () => {
      const saver = new SessionlogSaver({ dir });
      savers.push(saver);
      return new StateGraph(State)
        .addNode('note', (state) => ({ notes: [`note ${state.notes.length + 1}`] }))
        .addEdge(START, 'note')
        .addEdge('note', END)
        .compile({ checkpointer: saver });
    };
    const config = { configurable: { thread_id: 'demo' } };
    await compile().invoke({ notes: [] }, config);
    const { notes } = await compile().invoke({ notes: [] }, config);
    expect(notes).toEqual(['note 1', 'note 2']);
    const sizes: number[] = [];
    for await (const snapshot of compile().getStateHistory(config)) sizes.push((snapshot.values as { notes: string[] }).notes.length);
    expect(sizes[0]).toBe(2);
    expect(sizes.at(-1)).toBe(0);
    await Promise.all(savers.map((saver) => saver.close()));
  });
});
