import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineEditor } from '../../cli/join/line-editor.js';

const completions = { names: () => ['alice', 'albert', 'bob'], commands: () => ['/msg', '/meetings', '/upload'] };

function typed(text: string): LineEditor {
  const editor = new LineEditor();
  editor.insert(text);
  return editor;
}

test('insert(), left(), right(), home() and end() edit at the cursor, never splitting an emoji', () => {
  const editor = typed('héllo 👋');
  editor.left();
  assert.is(editor.cursor, 'héllo '.length, 'one step left over the two-unit emoji');
  editor.insert('big ');
  editor.home();
  editor.insert('» ');
  editor.end();
  editor.insert('!');
  assert.is(editor.text, '» héllo big 👋!');
  editor.right();
  assert.is(editor.cursor, editor.text.length, 'right at the end stays');
});

test('backspace(), deleteForward(), killWord(), killToStart(), killToEnd() and yank()', () => {
  const editor = typed('one two  three');
  editor.killWord();
  assert.is(editor.text, 'one two  ');
  editor.killWord();
  assert.is(editor.text, 'one ');
  editor.yank();
  assert.is(editor.text, 'one two  ');
  editor.home();
  editor.deleteForward();
  assert.is(editor.text, 'ne two  ');
  editor.end();
  editor.backspace();
  editor.left();
  editor.left();
  editor.killToEnd();
  assert.is(editor.text, 'ne tw');
  editor.killToStart();
  assert.is(editor.text, '');
  editor.yank();
  assert.is(editor.text, 'ne tw');
});

test('wordLeft() and wordRight() jump over words', () => {
  const editor = typed('alpha beta gamma');
  editor.wordLeft();
  assert.is(editor.cursor, 11);
  editor.wordLeft();
  assert.is(editor.cursor, 6);
  editor.wordRight();
  assert.is(editor.cursor, 10);
});

test('submit() empties the line and keeps the history; up and down browse it and give the draft back', () => {
  const editor = new LineEditor();
  for (const line of ['first', 'second', 'second', '   ']) {
    editor.insert(line);
    assert.is(editor.submit(), line);
  }
  editor.insert('draft');
  editor.historyUp();
  assert.is(editor.text, 'second', 'a repeated line is kept once; a blank one not at all');
  editor.historyUp();
  assert.is(editor.text, 'first');
  editor.historyUp();
  assert.is(editor.text, 'first', 'the oldest stays');
  editor.historyDown();
  editor.historyDown();
  assert.is(editor.text, 'draft');
});

test('complete() finds names (with ": " at the start of a line) and /commands, and cycles on the next Tab', () => {
  const editor = typed('al');
  assert.equal(editor.complete(completions), ['albert', 'alice']);
  assert.is(editor.text, 'albert: ');
  editor.complete(completions);
  assert.is(editor.text, 'alice: ');
  editor.insert('hi B');
  editor.complete(completions);
  assert.is(editor.text, 'alice: hi bob ');
  const command = typed('/me');
  command.complete(completions);
  assert.is(command.text, '/meetings ');
  const nothing = typed('zz');
  assert.equal(nothing.complete(completions), []);
  assert.is(nothing.text, 'zz');
});

test.run();
