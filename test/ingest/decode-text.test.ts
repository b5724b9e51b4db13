import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../src/ingest/decode-text.js';

async function decodeAll(chunks: Buffer[]) {
  const decoded = decodeText(Readable.from(chunks));
  let text = '';
  for await (const chunk of decoded.chunks) text += chunk;
  return { text, encoding: decoded.encoding() };
}

/** `bytes` cut into pieces of `size` bytes. */
function split(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

// Bytes 0x80-0x9F are where Node 20's latin1 and TextDecoder('windows-1252') go wrong.
const SPANISH = 'teléfono;nombre;nota\n+56987654321;Muñoz;€ 100 “oferta” — año\n';

describe('decodeText', () => {
  it('reads UTF-8, with or without a byte-order mark, in any chunking', async () => {
    const utf8 = Buffer.from(SPANISH, 'utf8');
    for (const bytes of [utf8, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8])]) {
      for (const size of [1, 2, 5, 1 << 20]) {
        expect(await decodeAll(split(bytes, size))).toEqual({ text: SPANISH, encoding: 'utf-8' });
      }
    }
  });

  it('reads Windows-1252, bytes 0x80-0x9F included (€ “ ” —)', async () => {
    const cp1252 = iconv.encode(SPANISH, 'win1252');
    expect(cp1252.includes(0x80)).toBe(true); // €
    for (const size of [1, 3, 1 << 20]) {
      expect(await decodeAll(split(cp1252, size))).toEqual({ text: SPANISH, encoding: 'windows-1252' });
    }
  });

  it('still detects Windows-1252 when the first accent comes after the first 64 KiB', async () => {
    const ascii = 'phone;name\n' + '+56987654321;Ana\n'.repeat(8000);
    const late = Buffer.concat([Buffer.from(ascii, 'latin1'), iconv.encode('+56987654322;Muñoz\n', 'win1252')]);
    expect(late.length).toBeGreaterThan(128 * 1024);
    const result = await decodeAll(split(late, 16 * 1024));
    expect(result.encoding).toBe('windows-1252');
    expect(result.text.endsWith('+56987654322;Muñoz\n')).toBe(true);
  });

  it('waits for the rest of a character cut between chunks before deciding', async () => {
    const text = 'a'.repeat(70 * 1024) + 'ñ';
    const bytes = Buffer.from(text, 'utf8');
    const chunks = [bytes.subarray(0, bytes.length - 1), bytes.subarray(bytes.length - 1)];
    expect(await decodeAll(chunks)).toEqual({ text, encoding: 'utf-8' });
  });

  it('reads UTF-16 with a byte-order mark, little- and big-endian, in any chunking', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SPANISH, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const size of [1, 3, 1 << 20]) {
      expect(await decodeAll(split(le, size))).toEqual({ text: SPANISH, encoding: 'utf-16le' });
      expect(await decodeAll(split(be, size))).toEqual({ text: SPANISH, encoding: 'utf-16be' });
    }
  });

  it('reads a UTF-8 line inside a Windows-1252 file as UTF-8, whatever the chunking', async () => {
    const text = 'teléfono;nombre\n+56987654321;Muñoz\n'.repeat(20);
    const file = Buffer.concat([iconv.encode(text, 'win1252'), Buffer.from('+56987654322;Peña\n', 'utf8'), iconv.encode('+56987654323;Núñez\n', 'win1252')]);
    for (const size of [1, 2, 3, 7, 1 << 20]) {
      expect(await decodeAll(split(file, size))).toEqual({ text: `${text}+56987654322;Peña\n+56987654323;Núñez\n`, encoding: 'windows-1252' });
    }
  });

  it('keeps a mostly UTF-8 file in UTF-8: its one bad byte becomes U+FFFD, whatever the chunking', async () => {
    const file = Buffer.concat([Buffer.from('nombre\nJosé\nMuñoz\n', 'utf8'), Buffer.from([0x42, 0xc3, 0x28, 0x0a]), Buffer.from('Ñuñoa\n', 'utf8')]);
    for (const size of [1, 3, 1 << 20]) {
      expect(await decodeAll(split(file, size))).toEqual({ text: 'nombre\nJosé\nMuñoz\nB\ufffd(\nÑuñoa\n', encoding: 'utf-8' });
    }
  });

  it('passes text through when the caller already decoded it', async () => {
    const decoded = decodeText(Readable.from(['telé', 'fono\n']));
    let text = '';
    for await (const chunk of decoded.chunks) text += chunk;
    expect({ text, encoding: decoded.encoding() }).toEqual({ text: 'teléfono\n', encoding: 'utf-8' });
  });
});
