/**
 * Rows G1–G8, G10: other programs change the session file while the store holds buffered entries:
 * editors saving by rename or in place, stale copies written back, deletes and truncations,
 * external appenders and readers, the folder moved away.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { EDITORS } from '../helpers/editors.js';
import { rng } from '../helpers/transcripts.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { duplicates, figure, idsOnDisk, scale } from './matrix.js';

const NEVER = { maxEntries: 1_000_000, maxBytes: 1 << 30, intervalMs: 3_600_000 };

async function freshSession() {
  const dir = tempDir();
  const store = await openStore({ dir, flush: NEVER });
  const warnings: string[] = [];
  store.on('warning', (w: { code: string }) => warnings.push(w.code));
  await store.create({ id: 's' });
  return { dir, store, warnings, file: path.join(dir, 's.jsonl') };
}

describe('G1/G2 editors save while entries are buffered', () => {
  const runs = scale(4, 50);

  it.each(Object.keys(EDITORS))(`%s: every entry lands in the saved file once, the edit is kept (${runs} runs)`, async (editor) => {
    const save = EDITORS[editor] as (file: string, content: string) => void;
    const random = rng(editor.length * 31);
    let written = 0;
    for (let run = 0; run < runs; run++) {
      const { store, file, dir } = await freshSession();
      const ids: string[] = [];
      let n = 0;
      const append = async () => {
        const id = `e${n++}`;
        ids.push(id);
        await store.append('s', { id, role: 'user', content: `entry ${id}` });
      };
      // A random moment: some entries flushed, some still buffered when the editor saves.
      for (let i = 1 + Math.floor(random() * 6); i > 0; i--) await append();
      await store.flush('s');
      for (let i = Math.floor(random() * 4); i > 0; i--) await append();
      const content = fs.readFileSync(file, 'utf8').replace('"entry e0"', '"entry e0, edited by hand"');
      save(file, content);
      for (let i = 1 + Math.floor(random() * 3); i > 0; i--) await append();
      await store.close();
      const onDisk = idsOnDisk(file);
      expect(onDisk, `${editor} run ${run}`).toEqual(ids);
      expect(fs.readFileSync(file, 'utf8')).toContain('entry e0, edited by hand');
      // Editor artifacts are never mistaken for sessions or left by the store.
      expect(fs.readdirSync(dir).filter((name) => name.endsWith('.jsonl'))).toEqual(['s.jsonl']);
      written += ids.length;
    }
    figure(`G1/G2 ${editor}`, `runs ${runs}, entries ${written}, writes to unlinked inodes 0, acked present 100 %, edits preserved 100 %, duplicates 0`);
  });
});

describe('G3/G5 stale copies and truncation', () => {
  it('G3 an editor writes back a stale copy: the acknowledged entries it dropped are appended again after the user’s edit', async () => {
    let restoredTotal = 0;
    for (const editor of ['vimRenameSave', 'vscodeTruncateSave', 'jetbrainsSafeWrite']) {
      const { store, file, warnings } = await freshSession();
      await store.append('s', [1, 2, 3].map((n) => ({ id: `r${n}`, role: 'user' as const, content: `text ${n}` })));
      await store.flush('s');
      const snapshot = fs.readFileSync(file, 'utf8'); // the editor loads the file here
      await store.append('s', [11, 12, 13, 14, 15].map((n) => ({ id: `r${n}`, role: 'user' as const, content: `r${n}` })));
      await store.flush('s'); // acknowledged
      // The user answers "write anyway": the stale buffer, with an edit, replaces the file.
      (EDITORS[editor] as (f: string, c: string) => void)(file, snapshot.replace('"text 2"', '"text 2 (edited)"'));
      await store.append('s', { id: 'r16', role: 'user', content: 'r16' });
      await store.flush('s');
      const onDisk = idsOnDisk(file);
      expect(onDisk, editor).toEqual(['r1', 'r2', 'r3', 'r11', 'r12', 'r13', 'r14', 'r15', 'r16']);
      expect(fs.readFileSync(file, 'utf8')).toContain('text 2 (edited)');
      expect(warnings).toContain('SESSIONLOG_RESTORED');
      restoredTotal += 5;
      await store.close();
    }
    figure('G3', `stale copy written back (vim, VS Code, JetBrains): acked entries restored ${restoredTotal}/${restoredTotal}, duplicates 0, user edits kept`);
  });

  it('G3 a line deleted by hand in the middle is not put back (only a dropped tail is)', async () => {
    const { store, file } = await freshSession();
    await store.append('s', [1, 2, 3].map((n) => ({ id: `d${n}`, role: 'user' as const, content: `d${n}` })));
    await store.flush('s');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    EDITORS['vimRenameSave']?.(file, lines.filter((line) => !line.includes('"d2"')).join('\n'));
    await store.append('s', { id: 'd4', role: 'user', content: 'd4' });
    await store.close();
    expect(idsOnDisk(file)).toEqual(['d1', 'd3', 'd4']);
  });

  it('G5 truncated to 0 or rolled back: the header and the acknowledged entries are written back', async () => {
    const { store, file, warnings } = await freshSession();
    await store.append('s', [1, 2].map((n) => ({ id: `t${n}`, role: 'user' as const, content: `t${n}` })));
    await store.flush('s');
    const older = fs.readFileSync(file, 'utf8');
    await store.append('s', [3, 4].map((n) => ({ id: `t${n}`, role: 'user' as const, content: `t${n}` })));
    await store.flush('s');
    fs.truncateSync(file, 0); // `: > file`
    await store.append('s', { id: 't5', role: 'user', content: 't5' });
    await store.flush('s');
    expect(idsOnDisk(file)).toEqual(['t1', 't2', 't3', 't4', 't5']);
    EDITORS['syncthingReplace']?.(file, older); // `git checkout` of an older version
    await store.append('s', { id: 't6', role: 'user', content: 't6' });
    await store.flush('s');
    expect(idsOnDisk(file)).toEqual(['t1', 't2', 't3', 't4', 't5', 't6']);
    expect((await store.get('s'))?.problems).toBe(0);
    expect(warnings).toEqual(expect.arrayContaining(['SESSIONLOG_EMPTIED', 'SESSIONLOG_RESTORED']));
    await store.close();
    figure('G5', 'truncated to 0, then rolled back to an older copy: acknowledged entries unrecoverable 0, header restored, duplicates 0');
  });
});

describe('G4/G10 the file or the folder disappears', () => {
  it('G4 deleted while buffered: the write is refused with a code and nothing is written into an unlinked inode or a new headless file', async () => {
    const { store, file } = await freshSession();
    await store.append('s', { id: 'x', role: 'user', content: 'x' });
    fs.unlinkSync(file);
    await expect(store.flush('s')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    expect(fs.existsSync(file)).toBe(false);
    await store.delete('s'); // the documented way to drop the buffered entries
    await store.close();
    figure('G4', 'deleted while open: bytes written to unlinked inodes 0, headless files created 0, error surfaced ERR_SESSION_NOT_FOUND');
  });

  it('G10 the store folder is moved away: writes fail with a code and nothing is recreated at the old path', async () => {
    const { store, dir } = await freshSession();
    await store.append('s', { id: 'x', role: 'user', content: 'x' });
    fs.renameSync(dir, `${dir}.moved`);
    try {
      await expect(store.flush('s')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
      await expect(store.create({ id: 'new' })).rejects.toMatchObject({ code: 'ERR_IO' });
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      fs.renameSync(`${dir}.moved`, dir);
    }
    await store.close();
    expect(idsOnDisk(path.join(dir, 's.jsonl'))).toEqual(['x']);
    figure('G10', 'folder moved away: writes outside the folder 0, recreated paths 0; after it is moved back the buffered entry is written');
  });
});

describe('G7/G8 other programs appending and reading at the same time', () => {
  it('G7 an external appender racing the store: no byte overwritten, no corrupt line', async () => {
    const { store, file } = await freshSession();
    const count = scale(300, 2000);
    const external = spawn('bash', [
      '-c',
      `for i in $(seq 1 ${count}); do echo "{\\"type\\":\\"message\\",\\"id\\":\\"ext-$i\\",\\"role\\":\\"user\\",\\"content\\":\\"from a shell\\"}" >> "$1"; done`,
      'bash',
      file,
    ]);
    const done = new Promise((resolve) => external.on('close', resolve));
    for (let n = 0; n < count; n++) {
      await store.append('s', { id: `own-${n}`, role: 'assistant', content: `own ${n}` });
      if (n % 5 === 4) await store.flush('s');
    }
    await done;
    await store.close();
    const onDisk = idsOnDisk(file);
    const { problems } = await (await openStore({ dir: path.dirname(file) })).read('s');
    expect(problems).toEqual([]);
    expect(onDisk.filter((id) => id.startsWith('own-'))).toEqual(Array.from({ length: count }, (_, n) => `own-${n}`));
    expect(onDisk.filter((id) => id.startsWith('ext-'))).toHaveLength(count);
    expect(duplicates(onDisk)).toBe(0);
    figure('G7', `external appender racing the store: ${count} + ${count} lines, overwritten external bytes 0, corrupt lines 0, store entries restored by mistake 0`);
  });

  it('G8 a reader during another process’s writes never reports anything worse than a pending last line', async () => {
    const { store, dir } = await freshSession();
    await store.close();
    const writer = startChild('appender.mjs', [dir, 's', 'W', String(scale(1500, 10_000))]);
    let finished = false;
    void writer.done.then(() => {
      finished = true;
    });
    const reader = await openStore({ dir });
    let reads = 0;
    let pending = 0;
    let wrong = 0;
    while (!finished) {
      // A tail read can complete without an I/O turn (synchronous preads): let the child's exit in.
      await new Promise((resolve) => setImmediate(resolve));
      const { problems } = await reader.read('s', { tail: 20 });
      reads++;
      for (const problem of problems) {
        if (problem.kind === 'torn-tail') pending++;
        else wrong++;
      }
    }
    expect((await writer.done).code).toBe(0);
    await reader.close();
    expect(reads).toBeGreaterThan(0);
    expect(wrong).toBe(0);
    figure('G8', `reader during another process's writes: reads ${reads}, false corruption reports ${wrong}, pending last line seen ${pending} times (reported as torn-tail)`);
  });
});
