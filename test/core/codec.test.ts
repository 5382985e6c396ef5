import { describe, expect, it } from 'vitest';
import { decodeLine, encodeLine } from '../../src/format/codec.js';
import { LineSplitter } from '../../src/format/lines.js';

const decode = (text: string | Buffer, first = false) => decodeLine(Buffer.isBuffer(text) ? text : Buffer.from(text), first);

describe('decodeLine', () => {
  it('parses an object line and tolerates a trailing CR (CRLF files)', () => {
    expect(decode('{"a":1}\r')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('strips a UTF-8 BOM on line 1 only', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    expect(decode(bom, true)).toEqual({ ok: true, value: { a: 1 } });
    expect(decode(bom, false)).toMatchObject({ ok: false, kind: 'invalid-json' });
  });

  it('treats whitespace-only lines as blank, not as problems', () => {
    expect(decode('')).toEqual({ ok: false, blank: true });
    expect(decode(' \t\r')).toEqual({ ok: false, blank: true });
  });

  it.each([
    ['{"a":', 'invalid-json'],
    ['[1,2]', 'not-an-object'],
    ['null', 'not-an-object'],
    ['<<<<<<< HEAD', 'conflict-marker'],
    ['=======', 'conflict-marker'],
    ['>>>>>>> feature', 'conflict-marker'],
  ])('reports %j as %s', (line, kind) => {
    expect(decode(line)).toMatchObject({ ok: false, blank: false, kind });
  });

  it('reports NUL runs and invalid UTF-8 without quoting the line', () => {
    const secret = 'sk-ant-api03-SECRET';
    const nul = Buffer.concat([Buffer.from(`{"k":"${secret}"`), Buffer.alloc(300)]);
    const badUtf8 = Buffer.concat([Buffer.from(`{"k":"${secret}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const results = [decode(nul), decode(badUtf8)];
    expect(results[0]).toMatchObject({ kind: 'nul-bytes' });
    expect(results[1]).toMatchObject({ kind: 'invalid-utf8' });
    expect(JSON.stringify(results)).not.toContain(secret);
  });

  it('accepts a real U+FFFD character (only invalid bytes are an error)', () => {
    expect(decode('{"t":"\uFFFD"}')).toEqual({ ok: true, value: { t: '\uFFFD' } });
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const result = decode('{"__proto__":{"isAdmin":true}}');
    if (!result.ok) throw new Error('expected an object');
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(Object.hasOwn(result.value, '__proto__')).toBe(true);
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
  });

  it('encodes one line with its newline', () => {
    expect(encodeLine({ a: 'b\nc' })).toBe('{"a":"b\\nc"}\n');
  });
});

describe('LineSplitter', () => {
  function split(chunks: string[], max?: number) {
    const splitter = new LineSplitter(0, max);
    const lines = chunks.flatMap((chunk) => splitter.push(Buffer.from(chunk)).map((l) => ({ ...l, text: l.bytes.toString() })));
    const tail = splitter.end();
    return { lines, tail: tail && { ...tail, text: tail.bytes.toString() } };
  }

  it('splits across chunk boundaries with exact byte offsets', () => {
    const { lines, tail } = split(['ab', 'c\nde', 'f\n\ng', 'h']);
    expect(lines.map((l) => [l.text, l.offset])).toEqual([
      ['abc', 0],
      ['def', 4],
      ['', 8],
    ]);
    expect(tail).toMatchObject({ text: 'gh', offset: 9, length: 2 });
  });

  it('counts multi-byte characters in bytes', () => {
    const { lines } = split(['é\n', '中\n']);
    expect(lines.map((l) => l.offset)).toEqual([0, 3]);
  });

  it('reports an oversize line by length without keeping its bytes', () => {
    const { lines } = split(['0123', '456789\nok\n'], 5);
    expect(lines[0]).toMatchObject({ oversize: true, length: 10, offset: 0, text: '' });
    expect(lines[1]).toMatchObject({ oversize: false, text: 'ok', offset: 11 });
  });
});
