import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const CONFIG_TS = JSON.stringify(join(ROOT, 'core/config.js'));
const LISTENING = /^Confab listening on http:\/\/[\d.]+:(\d+) /m;
const TLS_LINE = /^TLS on the same port \(https:\/\/127\.0\.0\.1:(\d+), wss, tls:\/\/\), (files|self-signed) certificate (.+)\n {2}SHA-256 fingerprint: ([0-9A-F:]+)$/m;
const START_TIMEOUT_MS = 30_000;

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

let dir = '';
const children: ChildProcess[] = [];

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-serve-tls-'));
});
test.after.each(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((done) => child.once('exit', done));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `confab serve` with a one-channel config, port 0 and its own data dir, plus `args`. */
function serve(args: string[]): Run {
  const config = join(dir, 'test.config.ts');
  writeFileSync(config, `import { defineConfig, definePlugin } from ${CONFIG_TS};
export default defineConfig({ server: { logLevel: 'warn' }, plugins: [definePlugin({ name: 'echo', setup() {} })] });\n`);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--config', config, '--data-dir', join(dir, 'data'), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits until the server printed its listening line (and the TLS lines, which come right after it). */
async function started(run: Run): Promise<{ port: number; tls?: { source: string; certPath: string; fingerprint: string } }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const listening = LISTENING.exec(run.stdout());
    if (listening && (TLS_LINE.test(run.stdout()) || !run.stdout().includes('TLS on'))) {
      await new Promise((done) => setTimeout(done, 50)); // the TLS lines are written right after, if any
      const tls = TLS_LINE.exec(run.stdout());
      return { port: Number(listening[1]), tls: tls ? { source: tls[2]!, certPath: tls[3]!, fingerprint: tls[4]! } : undefined };
    }
    if (run.child.exitCode !== null || Date.now() > deadline) assert.unreachable(`not listening (exit ${run.child.exitCode}):\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** GET /health over https, without trusting any CA: returns the status and the server certificate's fingerprint. */
function httpsHealth(port: number): Promise<{ status: number; fingerprint: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', rejectUnauthorized: false }, (response) => {
      const fingerprint = (response.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
      response.resume().on('end', () => done({ status: response.statusCode ?? 0, fingerprint }));
    });
    req.on('error', fail).end();
  });
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGINT');
  assert.is(await run.exited, 0);
}

test('--tls self-signed serves https on the port with the certificate whose fingerprint it prints', async () => {
  const run = serve(['--tls', 'self-signed']);
  const at = await started(run);
  assert.ok(at.tls, run.stdout());
  assert.is(at.tls.source, 'self-signed');
  assert.is(at.tls.certPath, join(dir, 'data', 'tls', 'cert.pem'));
  const health = await httpsHealth(at.port);
  assert.is(health.status, 200);
  assert.is(health.fingerprint, at.tls.fingerprint);
  await stop(run);
});

test('--tls-cert and --tls-key serve the given certificate (paths relative to the working directory)', async () => {
  const pems = await generate([{ name: 'commonName', value: 'confab-test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
  writeFileSync(join(dir, 'lan.crt'), pems.cert);
  writeFileSync(join(dir, 'lan.key'), pems.private);
  const run = serve(['--tls-cert', 'lan.crt', '--tls-key', 'lan.key']);
  const at = await started(run);
  assert.ok(at.tls, run.stdout());
  assert.is(at.tls.source, 'files');
  assert.is(at.tls.certPath, join(dir, 'lan.crt'));
  const expected = new X509Certificate(pems.cert).fingerprint256;
  assert.is(at.tls.fingerprint, expected);
  assert.is((await httpsHealth(at.port)).fingerprint, expected);
  await stop(run);
});

test('--tls off on loopback prints no TLS line and answers plain http', async () => {
  const run = serve(['--tls', 'off']);
  const at = await started(run);
  assert.is(at.tls, undefined);
  assert.not.match(run.stdout(), /TLS on/);
  assert.is((await fetch(`http://127.0.0.1:${at.port}/health`)).status, 200);
  await stop(run);
});

test('wrong TLS flags exit 1 with a coded error before listening', async () => {
  writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
  const cases: Array<[string[], RegExp]> = [
    [['--tls', 'on'], /^confab: CONFIG_INVALID: --tls must be self-signed or off, got "on"$/m],
    [['--tls-cert', 'a.crt'], /^confab: CONFIG_INVALID: --tls-cert and --tls-key go together/m],
    [['--tls', 'off', '--tls-key', 'a.key'], /^confab: CONFIG_INVALID: --tls cannot be combined/m],
    [['--tls-cert', 'missing.crt', '--tls-key', 'missing.key'], /^confab: TLS_CERT_INVALID: cannot read/m],
    [['--tls-cert', 'not-a-cert.pem', '--tls-key', 'not-a-cert.pem'], /^confab: TLS_CERT_INVALID: .*not a PEM certificate/m],
  ];
  await Promise.all(cases.map(async ([args, error]) => {
    const run = serve(args);
    assert.is(await run.exited, 1, args.join(' '));
    assert.match(run.stderr(), error);
    assert.not.match(run.stdout(), LISTENING);
  }));
});

test.run();
