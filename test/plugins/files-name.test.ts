import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanFileName } from '../../plugins/files/name.js';
import { decodeChunk, encodeChunk } from '../../plugins/files/protocol.js';
import { createSha256 } from '../../plugins/files/hasher.js';

const cleaned = (raw: unknown) => {
  const result = cleanFileName(raw);
  return result.ok ? result.name : undefined;
};

test('cleanFileName() keeps ordinary names, Unicode included', () => {
  assert.is(cleaned('report.pdf'), 'report.pdf');
  assert.is(cleaned('Prüfung – Lösung 2.txt'), 'Prüfung – Lösung 2.txt');
  assert.is(cleaned('.bashrc'), '.bashrc');
});

test('cleanFileName() strips the directories of a relative path', () => {
  assert.is(cleaned('photos/2024/cat.jpg'), 'cat.jpg');
  assert.is(cleaned('photos\\cat.jpg'), 'cat.jpg');
});

test('cleanFileName() refuses .., absolute paths, control characters and empty names', () => {
  for (const bad of ['..', '../x', 'a/../b', 'a\\..\\b', '/etc/passwd', '\\\\server\\share\\x', 'C:\\x.txt', 'c:x', 'a\u0000b', 'a\nb', 'a\u001bb', 'evil\u202Etxt.exe', '', '   ', '.', 'dir/', 42, undefined]) {
    assert.is(cleaned(bad), undefined, JSON.stringify(bad));
  }
});

test('cleanFileName() refuses Windows device names, with any extension and case', () => {
  for (const bad of ['CON', 'con.txt', 'Nul', 'PRN.tar.gz', 'aux', 'COM1', 'com9.log', 'LPT1', 'lpt3.txt', 'CON. ']) {
    assert.is(cleaned(bad), undefined, bad);
  }
  assert.is(cleaned('console.txt'), 'console.txt');
  assert.is(cleaned('COM10'), 'COM10');
});

test('cleanFileName() replaces characters Windows forbids and trims trailing dots and spaces', () => {
  assert.is(cleaned('what?*.txt'), 'what__.txt');
  assert.is(cleaned('ab|c"d<e>f:g'), 'ab_c_d_e_f_g');
  assert.is(cleaned('  name.txt. . '), 'name.txt');
});

test('cleanFileName() shortens long names to 255 UTF-8 bytes, keeping the extension', () => {
  const name = cleaned(`${'é'.repeat(300)}.tar.gz`)!;
  assert.ok(new TextEncoder().encode(name).length <= 255);
  assert.ok(name.endsWith('.gz'));
  assert.ok(name.startsWith('éé'));
});

test('encodeChunk()/decodeChunk() round-trip offsets past 4 GiB; short or absurd headers are refused', () => {
  const bytes = randomBytes(100);
  const chunk = decodeChunk(encodeChunk(7, 5 * 2 ** 32 + 3, bytes))!;
  assert.is(chunk.transfer, 7);
  assert.is(chunk.offset, 5 * 2 ** 32 + 3);
  assert.ok(Buffer.from(chunk.bytes).equals(bytes));
  assert.is(decodeChunk(new Uint8Array(11)), undefined);
  const absurd = new Uint8Array(12).fill(0xff);
  assert.is(decodeChunk(absurd), undefined);
});

test('createSha256() (hash-wasm) matches node:crypto for every length around block boundaries, fed in pieces', async () => {
  for (const length of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65_537]) {
    const data = randomBytes(length);
    const hash = await createSha256();
    for (let at = 0; at < length; at += 7 + (at % 50)) hash.update(data.subarray(at, at + 7 + (at % 50)));
    assert.is(hash.digest(), createHash('sha256').update(data).digest('hex'), `length ${length}`);
  }
});

test.run();
