/**
 * The README's set-up line: it installs what .ci/run installs, and it works as root where sudo is not
 * installed (as on a fresh Debian machine) as well as for a user with sudo. The line runs in `sh` with
 * stand-ins for apt-get, npm and sudo first on PATH that only record how they were called.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractCodeBlocks } from '../docs/code-blocks.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** Running the line as root, and as another user, needs root. */
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('SKIPPED: running the README line as root and as another user needs this test to run as root');
const rootTest = asRoot ? test : test.skip;

/** The first shell block of the README's "Set up and run" section. */
function setupLine(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Set up and run'));
  const block = extractCodeBlocks(section).find((candidate) => candidate.lang === 'sh');
  assert.ok(block, 'the section has a sh block');
  return block!.code.trim();
}

/** APT_PACKAGES of .ci/run. */
function ciPackages(): string[] {
  const script = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  const list = /APT_PACKAGES=\(\n([\s\S]*?)\n\)/.exec(script);
  assert.ok(list, '.ci/run has APT_PACKAGES');
  return list![1]!.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** Runs the line in sh with recording stand-ins; returns what was called, one line each. */
function runLine(line: string, asNobody: boolean): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'confab-readme-'));
  try {
    chmodSync(dir, 0o777);
    const log = join(dir, 'calls.log');
    writeFileSync(log, '');
    chmodSync(log, 0o666);
    for (const name of ['apt-get', 'npm', 'sudo']) {
      const body = name === 'sudo' ? `echo "sudo $*" >> ${log}\nexec "$@"\n` : `echo "${name} $*" >> ${log}\n`;
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}`);
      chmodSync(join(dir, name), 0o755);
    }
    const env = { PATH: `${dir}:/usr/bin:/bin` };
    const command = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', line] : ['sh', '-c', line];
    const result = spawnSync(command[0]!, command.slice(1), { env, encoding: 'utf8', cwd: dir });
    assert.is(result.status, 0, `the line ran: ${result.stderr}`);
    return readFileSync(log, 'utf8').trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Servers only the cluster tests start: the README line leaves them out, since Debian starts a system-wide
 * instance when they are installed, and `npm test`'s pretest installs them.
 */
const TEST_ONLY_SERVICES = ['postgresql', 'redis-server'];

test('the README set-up line installs what .ci/run installs, less the servers only the tests start', () => {
  const install = /apt-get install -y --no-install-recommends ([^&]+)&&/.exec(setupLine());
  assert.ok(install, 'an apt-get install');
  assert.equal(install![1]!.trim().split(/\s+/).sort(), ciPackages().filter((pkg) => !TEST_ONLY_SERVICES.includes(pkg)).sort());
  const pretest = readFileSync(join(ROOT, 'test/ensure-deps.mjs'), 'utf8');
  for (const pkg of TEST_ONLY_SERVICES) assert.ok(ciPackages().includes(pkg) && pretest.includes(`pkg: '${pkg}'`), `${pkg}: in .ci/run and installed by the pretest`);
});

rootTest('as root it calls apt-get without sudo (which a fresh Debian machine lacks), then npm ci and npm start', () => {
  const calls = runLine(setupLine(), false);
  assert.equal(calls.map((call) => call.split(' ').slice(0, 2).join(' ')), ['apt-get update', 'apt-get install', 'npm ci', 'npm start']);
});

rootTest('as a user it calls apt-get through sudo, and npm without', () => {
  const calls = runLine(setupLine(), true);
  assert.equal(calls.filter((call) => !call.startsWith('sudo')).map((call) => call.split(' ').slice(0, 2).join(' ')),
    ['apt-get update', 'apt-get install', 'npm ci', 'npm start']);
  assert.equal(calls.filter((call) => call.startsWith('sudo')).map((call) => call.split(' ').slice(0, 3).join(' ')), ['sudo apt-get update', 'sudo apt-get install']);
});

test.run();
