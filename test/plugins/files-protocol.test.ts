/**
 * plugins/files/protocol.ts: `parseFilesRequest` turns a client's message into a typed request (only the
 * fields of its op) or refuses it with a code and a message naming what was wrong; the error table's
 * factories give the table's messages, FILES_DISK_FULL retryable.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { FILES, FILES_DATA, FILES_ERRORS, parseFilesRequest } from '../../plugins/files/protocol.js';

const HASH = 'ab'.repeat(32);

/** The error `parseFilesRequest` throws for `message`. */
function refusal(message: JsonObject) {
  try {
    parseFilesRequest(message);
  } catch (error) {
    assert.ok(isConfabError(error), `a ConfabError, got ${String(error)}`);
    return error;
  }
  throw new Error(`parseFilesRequest accepted ${JSON.stringify(message)}`);
}

test('parseFilesRequest() keeps the fields of each op, and only those', () => {
  assert.equal(parseFilesRequest({ op: 'offer', ref: 'r1', name: 'a.txt', size: 3, extra: true }), { op: 'offer', ref: 'r1', name: 'a.txt', size: 3 });
  assert.equal(parseFilesRequest({ op: 'offer', ref: 'r1', name: 'a.txt', size: 3, to: 'bob' }), { op: 'offer', ref: 'r1', name: 'a.txt', size: 3, to: 'bob' });
  assert.equal(parseFilesRequest({ op: 'end', transfer: 1, sha256: HASH, ref: 'x' }), { op: 'end', transfer: 1, sha256: HASH });
  assert.equal(parseFilesRequest({ op: 'status', transfer: 2 }), { op: 'status', transfer: 2 });
  assert.equal(parseFilesRequest({ op: 'cancel', transfer: 2 }), { op: 'cancel', transfer: 2 });
  assert.equal(parseFilesRequest({ op: 'ack', transfer: 2, offset: 2 ** 40 }), { op: 'ack', transfer: 2, offset: 2 ** 40 });
  assert.equal(parseFilesRequest({ op: 'get', ref: 'g', id: 'f1' }), { op: 'get', ref: 'g', id: 'f1' });
  assert.equal(parseFilesRequest({ op: 'get', ref: 'g', id: 'f1', offset: 10 }), { op: 'get', ref: 'g', id: 'f1', offset: 10 });
  assert.equal(parseFilesRequest({ op: 'list', ref: 'l' }), { op: 'list', ref: 'l' });
  assert.equal(parseFilesRequest({ op: 'delete', ref: 'd', id: 'f1' }), { op: 'delete', ref: 'd', id: 'f1' });
});

test('parseFilesRequest() refuses a wrong shape with FILES_BAD_REQUEST saying what the op needs', () => {
  const cases: Array<[JsonObject, RegExp]> = [
    [{ op: 'offer', ref: 'r', name: 'a', size: -1 }, /"size":integer ≥ 0/],
    [{ op: 'offer', ref: 'r', name: 'a', size: 1.5 }, /"size":integer ≥ 0/],
    [{ op: 'offer', name: 'a', size: 1 }, /"ref":string\(1-64\)/],
    [{ op: 'offer', ref: 'x'.repeat(65), name: 'a', size: 1 }, /"ref":string\(1-64\)/],
    [{ op: 'offer', ref: 'r', name: 'a', size: 1, to: null }, /"to"\?:string/],
    [{ op: 'end', transfer: 1, sha256: HASH.toUpperCase() }, /64 lowercase hex digits/],
    [{ op: 'status', transfer: 'one' }, /"transfer":<a transfer id/],
    [{ op: 'ack', transfer: 1 }, /"offset"/],
    [{ op: 'get', ref: 'g', id: 5 }, /"id":string/],
    [{ op: 'list' }, /"ref"/],
    [{ op: 'delete', ref: 'd' }, /"id":string/],
    [{ ref: 'r' }, /unknown op undefined; the files ops are offer, end, status, ack, cancel, get, list, delete/],
  ];
  for (const [message, text] of cases) {
    const error = refusal(message);
    assert.is(error.code, 'FILES_BAD_REQUEST', JSON.stringify(message));
    assert.match(error.message, text);
    assert.not.ok(error.fatal);
  }
});

test('parseFilesRequest() refuses an offer whose name is no string with FILES_BAD_NAME', () => {
  const error = refusal({ op: 'offer', ref: 'r', name: ['a'], size: 1 });
  assert.is(error.code, 'FILES_BAD_NAME');
  assert.match(error.message, /must be a non-empty string/);
});

test('FILES_ERRORS: the table\'s messages, FILES_DISK_FULL retryable, the others not; the channels as the wire names them', () => {
  const full = FILES_ERRORS.FILES_DISK_FULL({ ref: 'r9' });
  assert.is(full.retryable, true);
  assert.equal(full.toPayload(), { code: 'FILES_DISK_FULL', message: full.message, fatal: false, ref: 'r9', retryable: true });
  assert.is(FILES_ERRORS.FILES_TOO_LARGE().retryable, false);
  assert.is(FILES_ERRORS.FILES_NOT_ALLOWED().message, 'only the sender of a file (or a moderator) may delete it');
  assert.ok(FILES_ERRORS.specs.every((spec) => spec.plugin === 'files' && !spec.fatal && spec.code.startsWith('FILES_')));
  assert.equal([FILES.name, FILES.kind, FILES_DATA.name, FILES_DATA.kind], ['files', 'json', 'files-data', 'binary']);
});

test.run();
