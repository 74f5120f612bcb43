import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const CONFIG_TS = JSON.stringify(join(ROOT, 'core/config.js'));
const LISTENING = /^Confab listening on http:\/\/([\d.]+):(\d+) \((.+)\) with (.+)$/m;
const START_TIMEOUT_MS = 30_000;

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dir = '';
const children: ChildProcess[] = [];

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-serve-'));
});
test.after.each(async () => {
  // Whatever a test left running is ended by the PID it was spawned with.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((done) => child.once('exit', done));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function confab(args: string[], cwd = dir): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for the listening line; fails with the process's output if it exits or takes too long. */
async function listening(run: Run): Promise<{ host: string; port: number; transports: string; plugins: string }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const match = LISTENING.exec(run.stdout());
    if (match) return { host: match[1]!, port: Number(match[2]), transports: match[3]!, plugins: match[4]! };
    if (run.child.exitCode !== null || Date.now() > deadline) {
      assert.unreachable(`no listening line (exit ${run.child.exitCode}):\n${run.stdout()}\n${run.stderr()}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
  });
}

function writeConfig(body: string): string {
  const file = join(dir, 'test.config.ts');
  writeFileSync(file, `import { defineConfig, definePlugin } from ${CONFIG_TS};\n${body}`);
  return file;
}

const ECHO_CONFIG = `
const echo = definePlugin({ name: 'echo', setup() {} });
export default defineConfig({ server: { port: 5000, logLevel: 'warn' }, plugins: [echo] });
`;

test('confab serve --port 0 prints the real port, answers /health and exits 0 on SIGINT, closing the port', async () => {
  const config = writeConfig(ECHO_CONFIG);
  const run = confab(['serve', '--port', '0', '--config', config, '--data-dir', join(dir, 'data')]);
  const at = await listening(run);
  assert.is(at.host, '127.0.0.1');
  assert.ok(at.port > 0);
  assert.is(at.transports, 'tcp, ws /ws, udp');
  assert.is(at.plugins, 'plugins: echo');

  const response = await fetch(`http://127.0.0.1:${at.port}/health`);
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  assert.type(await response.json(), 'object');

  run.child.kill('SIGINT');
  assert.equal(await run.exited, { code: 0, signal: null });
  assert.is(await tryConnect(at.port), 'ECONNREFUSED');
});

test('confab serve exits 0 on SIGTERM', async () => {
  const run = confab(['serve', '--port', '0', '--config', writeConfig(ECHO_CONFIG), '--data-dir', join(dir, 'data')]);
  await listening(run);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, { code: 0, signal: null });
});

test('confab serve without a config file in the working directory serves the built-in plugins', async () => {
  const run = confab(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
  const at = await listening(run);
  const response = await fetch(`http://127.0.0.1:${at.port}/health`);
  assert.is(response.status, 200);
  await response.body?.cancel();
  run.child.kill('SIGINT');
  assert.is((await run.exited).code, 0);
});

test('confab serve with a wrong config option exits 1 with CONFIG_INVALID before listening', async () => {
  const config = writeConfig(`export default defineConfig({ server: { prot: 5000 } as never });\n`);
  const run = confab(['serve', '--port', '0', '--config', config, '--data-dir', join(dir, 'data')]);
  assert.is((await run.exited).code, 1);
  assert.match(run.stderr(), /^confab: CONFIG_INVALID: /m);
  assert.not.match(run.stdout(), LISTENING);
});

test('confab serve with an invalid plugin exits 1 with PLUGIN_INVALID', async () => {
  const config = writeConfig(`export default defineConfig({ plugins: [definePlugin({ name: 'Echo', setup() {} })] });\n`);
  const run = confab(['serve', '--port', '0', '--config', config, '--data-dir', join(dir, 'data')]);
  assert.is((await run.exited).code, 1);
  assert.match(run.stderr(), /^confab: PLUGIN_INVALID: /m);
});

test('confab serve --port 5000x exits 1 with CONFIG_INVALID', async () => {
  const run = confab(['serve', '--port', '5000x', '--config', writeConfig(ECHO_CONFIG), '--data-dir', join(dir, 'data')]);
  assert.is((await run.exited).code, 1);
  assert.match(run.stderr(), /^confab: CONFIG_INVALID: /m);
});

test('confab serve --config of a missing file exits 1 with CONFIG_LOAD_FAILED', async () => {
  const run = confab(['serve', '--port', '0', '--config', join(dir, 'missing.config.ts'), '--data-dir', join(dir, 'data')]);
  assert.is((await run.exited).code, 1);
  assert.match(run.stderr(), /^confab: CONFIG_LOAD_FAILED: /m);
});

test('confab serve --host that cannot be an address exits 2 with a clear message, no stack trace', async () => {
  for (const [host, message] of [['256.1.1.1', /^confab serve: --host 256\.1\.1\.1 is not an IPv4 address: it has four numbers from 0 to 255/], ['lab pc', /^confab serve: --host "lab pc" is neither an IP address nor a host name/]] as const) {
    const run = confab(['serve', '--host', host, '--port', '0', '--data-dir', join(dir, 'data')]);
    assert.is((await run.exited).code, 2, host);
    assert.match(run.stderr(), message);
    assert.not.match(run.stderr(), /\n\s+at /, 'no stack trace');
  }
});

test('confab serve loads a config from a directory it may not write to (the bundle goes to a temporary directory)', async () => {
  const configDir = join(dir, 'read-only');
  mkdirSync(configDir);
  const config = join(configDir, 'plugins.config.ts');
  // chat() pulls in packages (tapable): they must resolve from where the bundle is written.
  writeFileSync(config, `import { defineConfig } from ${CONFIG_TS};\nimport { chat } from ${JSON.stringify(join(ROOT, 'plugins/chat/server.js'))};\n`
    + `export default defineConfig({ server: { logLevel: 'warn' }, plugins: [chat()] });\n`);
  const data = join(dir, 'data');
  mkdirSync(data);
  // As root every directory is writable: then run as nobody, to whom the config's directory is not.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(data, 65534, 65534);
  else chmodSync(configDir, 0o555);
  chmodSync(dir, 0o755);
  const command = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
  const child = spawn(command[0]!, [...command.slice(1), CLI, 'serve', '--port', '0', '--config', config, '--data-dir', data], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/Confab listening on .* with plugins: chat/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
  assert.match(output, /Confab listening on .* with plugins: chat/, output);
  assert.equal(readdirSync(configDir), ['plugins.config.ts'], 'nothing written beside the config');
  child.kill('SIGINT');
  assert.is(await exited, 0);
});

test('confab serve with an unknown flag exits 2', async () => {
  const run = confab(['serve', '--prot', '0']);
  assert.is((await run.exited).code, 2);
});

test.run();
