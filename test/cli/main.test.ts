import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');

/** Runs `confab ...args` to completion (each of these exits at once). */
function confab(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

test('confab --help lists the commands and exits 0', async () => {
  const { code, stdout } = await confab('--help');
  assert.is(code, 0);
  assert.match(stdout, /^\s+serve\s+/m);
  assert.is((await confab('help')).stdout, stdout);
});

test('confab help serve prints the serve usage and exits 0', async () => {
  const { code, stdout } = await confab('help', 'serve');
  assert.is(code, 0);
  assert.match(stdout, /^Usage: confab serve/);
  assert.is((await confab('serve', '--help')).stdout, stdout);
});

test('confab with an unknown command exits 2 suggesting the nearest', async () => {
  const { code, stderr } = await confab('serv');
  assert.is(code, 2);
  assert.match(stderr, /did you mean serve\?/);
});

test('confab with no command prints the help to stderr and exits 2', async () => {
  const { code, stderr } = await confab();
  assert.is(code, 2);
  assert.match(stderr, /^Usage: confab/);
});

test('confab --version prints the package version', async () => {
  const { code, stdout } = await confab('--version');
  assert.is(code, 0);
  assert.match(stdout, /^\d+\.\d+\.\d+/);
});

test.run();
