// LangGraph's own checkpoint-saver suite (@langchain/langgraph-checkpoint-validation, 718 tests)
// against SessionlogSaver on a folder and on PostgreSQL. The suite is written for vitest globals;
// its CLI cannot load an initializer in 1.1.1, so it is run through its library entry, validate().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vitest from 'vitest';
import { SessionlogSaver } from '../../src/adapters/langgraph/index.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';

const { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test, vi } = vitest;
Object.assign(globalThis, { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test, vi });
const { validate } = await import('@langchain/langgraph-checkpoint-validation');

const folders = new Map<SessionlogSaver, string>();

validate({
  checkpointerName: 'sessionlog (folder)',
  createCheckpointer() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-langgraph-'));
    const saver = new SessionlogSaver({ dir });
    folders.set(saver, dir);
    return saver;
  },
  async destroyCheckpointer(saver) {
    await saver.close();
    fs.rmSync(folders.get(saver) ?? '', { recursive: true, force: true });
    folders.delete(saver);
  },
});

if (PG_URL !== '') {
  validate({
    checkpointerName: 'sessionlog (PostgreSQL)',
    async createCheckpointer() {
      return new SessionlogSaver({ url: await freshPgUrl() });
    },
    async destroyCheckpointer(saver) {
      await saver.close();
    },
  });
}
