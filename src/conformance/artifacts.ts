/** Conformance: artifacts, content-addressed, kept while a session uses them. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Opener } from './index.js';
import { codeOf } from './index.js';

/** Registers the artifact tests. */
export function describeArtifacts(open: Opener): void {
  describe('artifacts', () => {
    it('put and get by sha256 ref; the same bytes stored once; listed per session in order', async () => {
      const store = await open();
      const a = await store.create({ id: 'a' });
      const b = await store.create({ id: 'b' });
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      const put = await store.artifacts.put(a.id, png, { mediaType: 'image/png', name: 'shot.png' });
      expect(put).toEqual({ ref: `sha256:${createHash('sha256').update(png).digest('hex')}`, size: 16, mediaType: 'image/png', name: 'shot.png' });
      expect(await store.artifacts.get(put.ref)).toEqual(png);
      const again = await store.artifacts.put(b.id, Readable.from([png.subarray(0, 5), png.subarray(5)]));
      expect(again.ref).toBe(put.ref);
      const text = await store.artifacts.put(a.id, 'report text', { mediaType: 'text/plain' });
      expect((await store.artifacts.list(a.id)).map((x) => x.ref)).toEqual([put.ref, text.ref]);
      expect(await store.artifacts.list(b.id)).toEqual([{ ref: put.ref, size: 16, mediaType: undefined, name: undefined }]);
      // An entry refers to an artifact by its ref.
      await store.append(a.id, { role: 'user', content: [{ type: 'image', ref: put.ref, mediaType: 'image/png' }] });
      expect((await store.read(a.id)).entries[0]?.['content']).toEqual([{ type: 'image', ref: put.ref, mediaType: 'image/png' }]);
    });

    it('getStream: a large artifact read as a stream, byte for byte', async () => {
      const store = await open();
      await store.create({ id: 'a' });
      const big = Buffer.alloc(9 * 1024 * 1024 + 7);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
      const { ref } = await store.artifacts.put('a', Readable.from([big.subarray(0, 5_000_000), big.subarray(5_000_000)]));
      const chunks: Buffer[] = [];
      for await (const chunk of (await store.artifacts.getStream(ref)) as Readable) chunks.push(chunk as Buffer);
      expect(chunks.length).toBeGreaterThan(1);
      expect(Buffer.concat(chunks).equals(big)).toBe(true);
      expect(await store.artifacts.getStream(`sha256:${'0'.repeat(64)}`)).toBeUndefined();
      expect(await codeOf(store.artifacts.getStream('../x'))).toBe('ERR_INVALID_REF');
    });

    it('refs are checked before anything is touched; unknown sessions refused', async () => {
      const store = await open();
      for (const bad of ['../../etc/passwd', 'sha256:../../x', `sha256:${'A'.repeat(64)}`, 'md5:abc', '']) {
        expect(await codeOf(store.artifacts.get(bad))).toBe('ERR_INVALID_REF');
      }
      expect(await store.artifacts.get(`sha256:${'0'.repeat(64)}`)).toBeUndefined();
      expect(await codeOf(store.artifacts.put('nosuch', 'x'))).toBe('ERR_SESSION_NOT_FOUND');
      expect(await codeOf(store.artifacts.put('../x', 'x'))).toBe('ERR_INVALID_ID');
    });

    it('kept while any session uses them: deleting one user keeps it, deleting the last removes it', async () => {
      const store = await open();
      await store.create({ id: 'one' });
      await store.create({ id: 'two' });
      const shared = await store.artifacts.put('one', 'shared bytes');
      await store.artifacts.put('two', 'shared bytes');
      const own = await store.artifacts.put('one', 'only one');
      await store.delete('one');
      expect(await store.artifacts.get(own.ref)).toBeUndefined();
      expect((await store.artifacts.get(shared.ref))?.toString()).toBe('shared bytes');
      await store.delete('two');
      expect(await store.artifacts.get(shared.ref)).toBeUndefined();
      expect(await store.artifacts.gc()).toEqual([]);
    });

    it('a put racing the deletion of the last other user keeps the bytes (50 rounds)', async () => {
      const store = await open();
      for (let round = 0; round < 50; round++) {
        const bytes = `race ${round}`;
        await store.create({ id: `old${round}` });
        await store.create({ id: `new${round}` });
        await store.artifacts.put(`old${round}`, bytes);
        const [put] = await Promise.all([store.artifacts.put(`new${round}`, bytes), store.delete(`old${round}`)]);
        expect((await store.artifacts.get(put.ref))?.toString()).toBe(bytes);
        await store.artifacts.gc();
        expect((await store.artifacts.get(put.ref))?.toString()).toBe(bytes);
      }
    });
  });
}
