/**
 * docs/plugin-guide.md cannot rot: every `ts file=…` block is written to a scratch copy of the repository
 * (under .confab/, with core/, bots/ and the plugins linked in, so the guide's imports resolve as they do
 * for a student), all of them are type-checked with tsc, every `*.test.ts` among them is run and must pass,
 * and every `plugins*.config.ts` among them must load with the plugins it names.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfigFile } from '../../core/config-loader.js';
import { extractCodeBlocks, type CodeBlock } from './code-blocks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GUIDE = join(ROOT, 'docs/plugin-guide.md');
const exec = promisify(execFile);

const blocks = extractCodeBlocks(readFileSync(GUIDE, 'utf8'));
const files = blocks.filter((block) => typeof block.attrs.file === 'string');
const where = (block: CodeBlock) => `docs/plugin-guide.md:${block.line}`;

let scratch = '';
test.before(() => {
  mkdirSync(join(ROOT, '.confab'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, '.confab', 'guide-'));
  // The repository, as links: core/, bots/, node_modules/, and each plugin folder under a real plugins/.
  for (const entry of ['core', 'bots', 'node_modules', 'package.json', 'tsconfig.json']) {
    symlinkSync(join(ROOT, entry), join(scratch, entry));
  }
  mkdirSync(join(scratch, 'plugins'));
  for (const entry of readdirSync(join(ROOT, 'plugins'))) symlinkSync(join(ROOT, 'plugins', entry), join(scratch, 'plugins', entry));
  for (const block of files) {
    const target = resolve(scratch, block.attrs.file as string);
    assert.ok(!relative(scratch, target).startsWith('..'), `${where(block)}: file= stays inside the repository`);
    // Never write through a link into the real repository.
    for (let dir = dirname(target); dir !== scratch; dir = dirname(dir)) {
      assert.not.ok(existsSync(dir) && lstatSync(dir).isSymbolicLink(), `${where(block)}: ${block.attrs.file} would overwrite a file of the repository`);
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, block.code, { flag: 'wx' });
  }
});
test.after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('every TypeScript block of the guide names its file, once', () => {
  for (const block of blocks) {
    if (block.lang === 'ts' || block.lang === 'typescript') assert.type(block.attrs.file, 'string', `${where(block)} needs file=…`);
  }
  const names = files.map((block) => block.attrs.file);
  assert.equal(names, [...new Set(names)], 'no file is written twice');
  assert.ok(files.some((block) => (block.attrs.file as string).endsWith('.test.ts')), 'the guide has tests to run');
});

test('the guide\'s files type-check with tsc (strict, as the repository)', async () => {
  writeFileSync(join(scratch, 'tsconfig.guide.json'), JSON.stringify({
    extends: './tsconfig.json',
    include: [],
    files: files.map((block) => block.attrs.file),
  }));
  const result = await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.guide.json'], { cwd: scratch })
    .then(() => undefined, (error: { stdout: string }) => error.stdout);
  assert.is(result, undefined, `tsc found errors in the guide's code:\n${result}`);
});

test('the guide\'s tests run and pass', async () => {
  for (const block of files.filter((b) => (b.attrs.file as string).endsWith('.test.ts'))) {
    const outcome = await exec(process.execPath, ['--import', 'tsx', block.attrs.file as string], { cwd: scratch, timeout: 60_000 })
      .then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}\n${error.stderr}` }));
    assert.is(outcome.code, 0, `${where(block)} ${block.attrs.file} failed:\n${outcome.stdout}`);
    assert.match(outcome.stdout, /Passed:\s+[1-9]/);
    assert.not.match(outcome.stdout, /FAIL/);
  }
});

test('the guide\'s config files load, with the plugins they list', async () => {
  const configs = files.filter((b) => /(^|\/)plugins[.\w]*\.config\.ts$/.test(b.attrs.file as string));
  assert.ok(configs.length > 0);
  for (const block of configs) {
    const { config } = await loadConfigFile(join(scratch, block.attrs.file as string));
    const names = (config.plugins ?? []).map((plugin) => plugin.name);
    for (const imported of block.code.matchAll(/import \{ (\w+) \} from '\.\/plugins\/(?!index)[\w/-]+\/server\.js'/g)) {
      assert.ok(names.some((name) => name.replaceAll('-', '') === imported[1]!.toLowerCase()), `${where(block)}: ${imported[1]} is in the plugins list`);
    }
  }
});

test('extractCodeBlocks: language, attributes, indented fences, an unclosed fence', async () => {
  const { extractCodeBlocks: extract } = await import('./code-blocks.js');
  const parsed = extract('text\n```ts file=a.ts run\nconst a = 1;\n```\n  ~~~sh\n  ls\n  ~~~\n````\n```inner```\n````\n');
  assert.equal(parsed.map((b) => [b.lang, b.attrs, b.code, b.line]), [
    ['ts', { file: 'a.ts', run: true }, 'const a = 1;\n', 2],
    ['sh', {}, 'ls\n', 5],
    ['', {}, '```inner```\n', 8],
  ]);
  assert.throws(() => extract('```ts\nnever closed\n'), /line 1 is never closed/);
});

test.run();
