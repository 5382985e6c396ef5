// SessionlogSession against the SDK's MemorySession: the same operations give the same results;
// a new instance on the same folder sees the history; the SDK's runner keeps a conversation in it.
import { Agent, MemorySession, type AgentInputItem, type Model, type ModelRequest, run, Usage } from '@openai/agents-core';
import { describe, expect, it } from 'vitest';
import { agentsSessionId, SessionlogSession } from '../../src/adapters/openai-agents/index.js';
import { runCli } from '../cli/run.js';
import { rng } from '../helpers/rng.mjs';
import { tempDir } from '../helpers/tmp.js';

const user = (text: string): AgentInputItem => ({ role: 'user', content: text });
const assistant = (text: string): AgentInputItem => ({ role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });

describe('SessionlogSession', () => {
  it('behaves as MemorySession over 400 random operations, and a new instance sees the same history', async () => {
    const dir = tempDir();
    const random = rng(13);
    const memory = new MemorySession({ sessionId: 'twin' });
    let ours = new SessionlogSession({ dir, sessionId: 'twin' });
    for (let step = 0; step < 400; step++) {
      const op = random();
      if (op < 0.45) {
        const items = Array.from({ length: Math.floor(random() * 3) }, (_, i) => (random() < 0.5 ? user(`u${step}.${i}`) : assistant(`a${step}.${i}`)));
        await Promise.all([memory.addItems(items), ours.addItems(items)]);
      } else if (op < 0.65) {
        expect(await ours.popItem()).toEqual(await memory.popItem());
      } else if (op < 0.9) {
        const limit = random() < 0.3 ? undefined : Math.floor(random() * 6) - 1;
        expect(await ours.getItems(limit)).toEqual(await memory.getItems(limit));
      } else if (op < 0.95) {
        await Promise.all([memory.clearSession(), ours.clearSession()]);
      } else {
        await ours.close();
        ours = new SessionlogSession({ dir, sessionId: 'twin' });
      }
    }
    expect(await ours.getItems()).toEqual(await memory.getItems());
    expect(await ours.getSessionId()).toBe(await memory.getSessionId());
    await ours.close();
  });

  it('two instances on one session (two processes, say) see each other\'s items in the order written', async () => {
    const dir = tempDir();
    const a = new SessionlogSession({ dir, sessionId: 'shared' });
    const b = new SessionlogSession({ dir, sessionId: 'shared' });
    await a.addItems([user('a1')]);
    expect(await b.getItems()).toEqual([user('a1')]);
    await a.addItems([user('a2')]);
    await b.addItems([user('b1')]);
    await a.addItems([user('a3')]);
    expect(await a.getItems()).toEqual([user('a1'), user('a2'), user('b1'), user('a3')]);
    expect(await b.popItem()).toEqual(user('a3'));
    expect(await a.getItems(2)).toEqual([user('a2'), user('b1')]);
    await Promise.all([a.close(), b.close()]);
  });

  it('a history rewrite gives what MemorySession gives', async () => {
    const memory = new MemorySession();
    const ours = new SessionlogSession({ dir: tempDir() });
    const items: AgentInputItem[] = [user('a'), { type: 'function_call', callId: 'c1', name: 'f', arguments: '{"x":1}' }, user('c')];
    await memory.addItems(items);
    await ours.addItems(items);
    const args = { mutations: [{ type: 'replace_function_call' as const, callId: 'c1', replacement: { type: 'function_call' as const, callId: 'c1', name: 'f', arguments: '{"x":2}' } }] };
    await memory.applyHistoryMutations(args);
    await ours.applyHistoryMutations(args);
    expect(JSON.stringify(await memory.getItems())).toContain('{\\"x\\":2}');
    expect(await ours.getItems()).toEqual(await memory.getItems());
    await ours.close();
  });

  it('the SDK runner keeps a conversation in it: the second run sends the first turn to the model', async () => {
    const dir = tempDir();
    const seen: ModelRequest[] = [];
    const model: Model = {
      async getResponse(request) {
        seen.push(request);
        return { usage: new Usage(), output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `reply ${seen.length}` }] }] };
      },
      // eslint-disable-next-line require-yield -- the runner under test calls getResponse only (no streaming)
      async *getStreamedResponse() {
        throw new Error('not used');
      },
    };
    const agent = new Agent({ name: 'Scripted', model });
    const first = await run(agent, 'What is the retry policy?', { session: new SessionlogSession({ dir, sessionId: 'chat' }) });
    expect(first.finalOutput).toBe('reply 1');
    const session = new SessionlogSession({ dir, sessionId: 'chat' });
    await run(agent, 'And the timeout?', { session });
    const input = JSON.stringify(seen[1]?.input);
    expect(input).toContain('What is the retry policy?');
    expect(input).toContain('reply 1');
    expect((await session.getItems()).length).toBe(4);
    await session.close();

    const show = await runCli(['show', agentsSessionId('chat'), '--full'], { dir });
    expect(show.stdout).toContain('And the timeout?');
  });
});
