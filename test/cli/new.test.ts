import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plugin } from '../../core/types.js';
import { startTestServer } from '../../core/testing.js';
import { web } from '../../plugins/web/server.js';
import { launchBrowser } from '../helpers/browser.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const exec = promisify(execFile);
const confab = (...args: string[]) =>
  exec(process.execPath, [CLI, ...args], { cwd: ROOT }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

let dir = '';
test.before.each(() => {
  // Inside the repository, so that the generated files' imports of core/ resolve as they will for a user;
  // under .confab/, which git ignores.
  mkdirSync(join(ROOT, '.confab'), { recursive: true });
  dir = mkdtempSync(join(ROOT, '.confab', 'new-test-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('confab new plugin NAME --dir scaffolds six files on the plugin API v2 whose test passes and which type-check', async () => {
  const target = join(dir, 'hand-signals');
  const made = await confab('new', 'plugin', 'hand-signals', '--dir', target);
  assert.is(made.code, 0, made.stderr);
  assert.equal(readdirSync(target).sort(), ['README.md', 'client.ts', 'entry.ts', 'hand-signals.test.ts', 'protocol.ts', 'server.ts']);
  assert.match(made.stdout, /npx tsx .*hand-signals\.test\.ts/);
  const server = readFileSync(join(target, 'server.ts'), 'utf8');
  assert.match(server, /export function handSignals\(\): Plugin/);
  assert.match(server, /from '\.\.\/\.\.\/\.\.\/core\/config\.js'/, 'imports the core by a relative path');
  assert.match(server, /client: new URL\('\.\/entry\.ts', import\.meta\.url\)/, 'names its client entry');
  const protocol = readFileSync(join(target, 'protocol.ts'), 'utf8');
  assert.match(protocol, /defineErrors\('hand-signals'/);
  assert.match(protocol, /export const HAND_SIGNALS = jsonChannel<HandSignalsRequest, HandSignalsMessage>\('hand-signals', \{ parse: parseHandSignalsRequest/);
  assert.not.match(readdirSync(target).map((f) => readFileSync(join(target, f), 'utf8')).join(''), / as (JsonObject|unknown)\b/, 'no casts on messages');
  assert.not.match(readdirSync(target).map((f) => readFileSync(join(target, f), 'utf8')).join(''), /\{\{/, 'no placeholder is left');

  const tested = await exec(process.execPath, ['--import', 'tsx', join(target, 'hand-signals.test.ts')], { cwd: ROOT });
  assert.match(tested.stdout, /Total:\s+2/);
  assert.match(tested.stdout, /Passed:\s+2/);

  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), include: ['./**/*.ts'] }));
  const checked = await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(dir, 'tsconfig.json')]).catch((e) => e);
  assert.is(checked.code ?? 0, 0, `tsc: ${checked.stdout}`);
});

test('the scaffold\'s tab works in the browser: "Add one" counts up for the room', async () => {
  const target = join(dir, 'hand-signals');
  assert.is((await confab('new', 'plugin', 'hand-signals', '--dir', target)).code, 0);
  const { handSignals } = (await import(pathToFileURL(join(target, 'server.ts')).href)) as { handSignals: () => Plugin };
  const lab = await startTestServer({ plugins: [handSignals(), web()] });
  const browser = await launchBrowser();
  try {
    const bob = await lab.connect('bob');
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${lab.port}/`);
    await page.getByLabel('Your name').fill('alice');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('tab', { name: 'Hand signals' }).click();
    await page.getByRole('button', { name: 'Add one' }).click();
    await page.getByRole('status', { name: 'Counter' }).filter({ hasText: '1' }).waitFor();
    await bob.waitForMessage('hand-signals', { op: 'count', value: 1 });
  } finally {
    await browser.close();
    await lab.close();
  }
});

test('confab new plugin refuses to overwrite a folder that is not empty, and writes nothing', async () => {
  const target = join(dir, 'quiz');
  assert.is((await confab('new', 'plugin', 'quiz', '--dir', target)).code, 0);
  writeFileSync(join(target, 'server.ts'), '// my work');
  const again = await confab('new', 'plugin', 'quiz', '--dir', target);
  assert.is(again.code, 1);
  assert.match(again.stderr, /NEW_TARGET_EXISTS/);
  assert.is(readFileSync(join(target, 'server.ts'), 'utf8'), '// my work');
});

test('confab new plugin validates NAME and the usage, creating nothing', async () => {
  for (const name of ['Quiz', '1quiz', 'quiz--x', 'quiz-', 'my quiz', '../evil', 'quiz_x', 'core', 'a'.repeat(41), '']) {
    const result = await confab('new', 'plugin', name, '--dir', join(dir, 'x'));
    assert.is(result.code, 2, `"${name}" is refused`);
    assert.match(result.stderr, /confab new: /);
  }
  assert.is((await confab('new', 'widget', 'quiz')).code, 2);
  assert.is((await confab('new', 'plugin')).code, 2);
  assert.is(existsSync(join(dir, 'x')), false);
  assert.is(existsSync(join(ROOT, 'plugins', 'evil')), false);
});

test.run();
