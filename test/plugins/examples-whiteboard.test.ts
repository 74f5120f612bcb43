import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { startTestServer } from '../../core/testing.js';
import { RawClient } from '../helpers/raw-client.js';
import { whiteboardClient } from '../../plugins/examples/whiteboard/client.js';
import { parseWhiteboardRequest } from '../../plugins/examples/whiteboard/protocol.js';
import { whiteboard } from '../../plugins/examples/whiteboard/server.js';

const board = () => ({ board: whiteboardClient() });

test('whiteboard: strokes reach the room in order, a late joiner gets the drawing, clear wipes it', async () => {
  const lab = await startTestServer({ plugins: [whiteboard()] });
  try {
    const alice = await lab.connect('alice', { plugins: board() });
    const bob = await lab.connect('bob', { plugins: board(), transport: 'ws' });
    const eve = await lab.connect('eve', { room: 'other', plugins: board() });
    alice.board.draw([0.1, 0.1, 0.2, 0.2], { color: '#ff0000', width: 3 });
    bob.board.draw([0.5, 0.5], { color: '#00FF00', width: 10 });
    alice.board.draw([0.9, 0.9, 1, 1]);
    await lab.waitFor(() => alice.board.strokes.length === 3 && bob.board.strokes.length === 3, 'both to have three strokes');
    assert.equal(alice.board.strokes, bob.board.strokes, 'everyone sees the same strokes in the same order');
    assert.equal(alice.board.strokes.map((s) => s.id), [1, 2, 3]);
    assert.equal(alice.board.strokes.find((s) => s.color === '#00FF00')!.by, { id: bob.id, name: 'bob' });

    const carol = await lab.connect('carol', { plugins: board() });
    const drawing = await carol.waitForMessage('whiteboard', { op: 'drawing' });
    assert.equal(drawing.strokes, alice.board.strokes, 'a late joiner gets the whole drawing');

    bob.board.clear();
    await carol.waitForMessage('whiteboard', { op: 'clear', by: { id: bob.id, name: 'bob' } });
    assert.is(carol.board.strokes.length, 0);
    const dave = await lab.connect('dave', { plugins: board() });
    assert.equal((await dave.waitForMessage('whiteboard', { op: 'drawing' })).strokes, []);
    assert.is(eve.board.strokes.length, 0, 'other rooms are untouched');
  } finally {
    await lab.close();
  }
});

test('whiteboard: the history is bounded by stroke count and by bytes, oldest dropped first', async () => {
  const lab = await startTestServer({ plugins: [whiteboard({ maxStrokes: 5, maxHistoryBytes: 4096, maxPoints: 100 })] });
  try {
    const alice = await lab.connect('alice', { plugins: board() });
    for (let i = 0; i < 8; i++) alice.board.draw([i / 10, i / 10]);
    await lab.waitFor(() => alice.board.strokes.length === 8, 'the eight strokes');
    const late = await lab.connect('late', { plugins: board() });
    assert.equal((await late.waitForMessage('whiteboard', { op: 'drawing' })).strokes.map((s: { id: number }) => s.id), [4, 5, 6, 7, 8]);

    const long = Array.from({ length: 200 }, (_, i) => (i % 100) / 99);
    for (let i = 0; i < 5; i++) alice.board.draw(long);
    await lab.waitFor(() => alice.board.strokes.length === 13, 'the long strokes');
    const later = await lab.connect('later', { plugins: board() });
    const kept = (await later.waitForMessage('whiteboard', { op: 'drawing' })).strokes as Array<{ id: number }>;
    assert.ok(kept.length < 5 && kept.length >= 1, `only what fits in 4096 bytes is kept (${kept.length} strokes)`);
    assert.ok(JSON.stringify(kept).length <= 4096);
    assert.is(kept.at(-1)!.id, 13, 'the newest stroke is kept');
  } finally {
    await lab.close();
  }
});

test('whiteboard: bad strokes get WHITEBOARD_BAD_STROKE and are not relayed; moderatedClear needs moderate', async () => {
  const lab = await startTestServer({ plugins: [whiteboard({ maxPoints: 2, moderatedClear: true })] });
  try {
    const alice = await lab.connect('alice', { plugins: board() });
    const bob = await lab.connect('bob', { plugins: board() });
    const bad: Array<[number[], { color?: string; width?: number }]> = [
      [[], {}],
      [[0.1], {}],
      [[0.1, 1.5], {}],
      [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], {}],
      [[0.1, 0.2], { color: 'red' }],
      [[0.1, 0.2], { width: 0 }],
      [[0.1, 0.2], { width: 51 }],
    ];
    for (const [points, style] of bad) alice.board.draw(points, style);
    for (let i = 0; i < bad.length; i++) await alice.waitForError('WHITEBOARD_BAD_STROKE');
    alice.client.use({ name: 'raw', attach: (ctx) => ctx.send })('whiteboard', { op: 'stroke', points: [0.1, '0.2'], color: '#000000', width: 1 });
    await alice.waitForError('WHITEBOARD_BAD_STROKE');
    alice.board.draw([0.3, 0.3]);
    await bob.waitForMessage('whiteboard', { op: 'stroke' });
    assert.is(bob.board.strokes.length, 1, 'only the good stroke was relayed');

    lab.session(bob).grants.delete('moderate');
    bob.board.clear();
    await bob.waitForError('WHITEBOARD_NOT_ALLOWED');
    alice.board.clear();
    await bob.waitForMessage('whiteboard', { op: 'clear' });
  } finally {
    await lab.close();
  }
});

test('parseWhiteboardRequest() refuses an unknown op with WHITEBOARD_BAD_REQUEST and a malformed stroke with WHITEBOARD_BAD_STROKE, with the ref', () => {
  const stroke = { op: 'stroke', points: [0.1, 0.2], color: '#000000', width: 1, ref: 'r1' };
  const cases: Array<[JsonObject, string]> = [
    [{ op: 'erase', ref: 'r1' }, 'WHITEBOARD_BAD_REQUEST'],
    [{ ...stroke, points: [0.1, '0.2'] }, 'WHITEBOARD_BAD_STROKE'],
    [{ ...stroke, points: 'all' }, 'WHITEBOARD_BAD_STROKE'],
    [{ ...stroke, color: 7 }, 'WHITEBOARD_BAD_STROKE'],
    [{ ...stroke, width: '3' }, 'WHITEBOARD_BAD_STROKE'],
  ];
  for (const [message, code] of cases) {
    try {
      parseWhiteboardRequest(message);
      assert.unreachable(`${JSON.stringify(message)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === code && error.ref === 'r1', JSON.stringify(message));
    }
  }
  assert.equal(parseWhiteboardRequest(stroke), stroke);
});

test('whiteboard: a raw client\'s malformed request gets its code with the ref and channel', async () => {
  const lab = await startTestServer({ plugins: [whiteboard()] });
  try {
    const { client: raw, welcome } = await RawClient.join('tcp', lab.port, { name: 'mallory', room: 'default' });
    raw.sendJson(welcome.channels.whiteboard!, { op: 'stroke', points: { x: 1 }, ref: 'm1' });
    const error = await raw.nextError();
    assert.equal([error.code, error.ref, error.channel], ['WHITEBOARD_BAD_STROKE', 'm1', 'whiteboard']);
    raw.destroy();
  } finally {
    await lab.close();
  }
});

test.run();
