import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inputView } from '../../cli/join/input-view.js';
import { computeLayout } from '../../cli/join/layout.js';
import { seg, windowOf, wrap } from '../../cli/join/text.js';

const plain = (rows: ReturnType<typeof wrap>) => rows.map((row) => row.map((s) => s.text).join(''));

test('computeLayout() puts a side column beside the chat from 80 columns, and one panel at a time below', () => {
  const wide = computeLayout(80, 24, 'files');
  assert.ok(wide.side);
  assert.equal(wide.panels.chat, { top: 1, left: 0, width: 52, height: 20 });
  const side = [wide.panels.people!, wide.panels.files!, wide.panels.meetings!];
  assert.is(side.reduce((sum, rect) => sum + rect.height, 0), 20, 'the side panels share the body height');
  assert.equal([wide.errorLine.top, wide.input.top, wide.help.top], [21, 22, 23]);
  const narrow = computeLayout(60, 20, 'files');
  assert.not.ok(narrow.side);
  assert.equal(Object.keys(narrow.panels), ['files']);
  assert.equal(narrow.panels.files, { top: 1, left: 0, width: 60, height: 16 });
});

test('wrap() breaks at spaces within the width, inside a word only when it must, keeping styles', () => {
  assert.equal(plain(wrap([seg('12:00 '), seg('bob', 'bold'), seg(': a line that wraps here')], 20)), ['12:00 bob: a line', 'that wraps here']);
  assert.equal(plain(wrap([seg('abcdefghij')], 4)), ['abcd', 'efgh', 'ij']);
  assert.equal(wrap([seg('bob', 'bold'), seg(' x')], 10)[0]![0], { text: 'bob', style: ['bold'] });
  assert.equal(plain(wrap([seg('tab\there')], 20)), ['tab?here'], 'control characters are shown as ?');
});

test('windowOf() shows the end, or a scrolled part, with a row saying how much more there is', () => {
  const lines = Array.from({ length: 10 }, (_, i) => [seg(`line ${i + 1}`)]);
  assert.equal(plain(windowOf(lines, 20, 4, 0)), ['↑ 7 more (PgUp)', 'line 8', 'line 9', 'line 10']);
  assert.equal(plain(windowOf(lines, 20, 4, 3)), ['↑ 4 more (PgUp)', 'line 5', 'line 6', '↓ 4 more (PgDn)']);
  assert.equal(plain(windowOf(lines, 20, 4, 99)), ['line 1', 'line 2', 'line 3', '↓ 7 more (PgDn)'], 'scrolling stops at the top');
  assert.equal(plain(windowOf(lines.slice(0, 2), 20, 4, 5)), ['line 1', 'line 2']);
});

test('inputView() keeps the cursor in view of a long line', () => {
  const text = (line: ReturnType<typeof inputView>) => line.map((s) => s.text).join('');
  assert.is(text(inputView('hello', 5, 20)), '> hello ');
  assert.is(text(inputView('hello', 0, 20)), '> hello');
  assert.is(text(inputView('abcdefghijklmnop', 16, 10)), '… jklmnop ');
  assert.equal(inputView('hello', 1, 20).find((s) => s.style?.includes('inverse'))?.text, 'e');
});

test.run();
