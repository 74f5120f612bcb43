/**
 * The logger on pino (core/logger.ts): JSON lines with levels and scopes, per-plugin children, the same
 * levels as before, readable lines for a terminal, and secrets redacted, also through a real server whose
 * stderr is a pipe.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, REDACTED, type LogLevel } from '../../core/logger.js';
import { secretPath } from '../../plugins/auth/server.js';
import { signToken } from '../../plugins/auth/token.js';
import { RawClient } from '../helpers/raw-client.js';

/** A logger whose lines are kept, parsed. */
function capture(level?: LogLevel): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: createLogger({ level, write: (line) => lines.push(JSON.parse(line)) }), lines };
}

test('createLogger() writes one JSON object per line: pino level, ISO time, scope, msg and the fields', () => {
  const { log, lines } = capture();
  log.info('listening', { port: 5000 });
  assert.is(lines.length, 1);
  const [line] = lines;
  assert.is(line!.level, 30);
  assert.is(line!.msg, 'listening');
  assert.is(line!.scope, 'confab');
  assert.is(line!.port, 5000);
  assert.match(String(line!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('levels are as before: debug, info, warn, error and silent', () => {
  const written = (level: LogLevel) => {
    const { log, lines } = capture(level);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    return lines.map((line) => line.msg);
  };
  assert.equal(written('debug'), ['d', 'i', 'w', 'e']);
  assert.equal(written('info'), ['i', 'w', 'e']);
  assert.equal(written('warn'), ['w', 'e']);
  assert.equal(written('error'), ['e']);
  assert.equal(written('silent'), []);
  const { log, lines } = capture();
  log.warn('w');
  log.error('e');
  assert.equal(lines.map((line) => line.level), [40, 50]);
});

test('log.child(name) scopes a per-plugin logger (confab:chat), and its own children under it, once each', () => {
  const { log, lines } = capture();
  log.child('chat').info('one');
  log.child('chat').child('history').info('two');
  assert.equal(lines.map((line) => line.scope), ['confab:chat', 'confab:chat:history']);
  const raw = JSON.stringify(lines[1]);
  assert.is(raw.split('"scope"').length, 2, 'the scope key appears once');
});

test('tokens, secrets, resume and media tokens are redacted, as fields, fields of fields, and JWTs in text', async () => {
  const { log, lines } = capture();
  const jwt = await signToken(Buffer.alloc(32, 7), { room: 'lab', grants: ['join'], ttlSeconds: 60 });
  log.info('hello', { hello: { name: 'alice', token: jwt, resume: 'resume-123' }, mediaToken: 'media-456', mediaKey: 'key-789' });
  log.warn('secrets', { secret: 's1', password: 'p1', resumeToken: 'r1', token: 't1', options: { secret: 's2' } });
  log.error(`refused ${jwt} at login`, { error: `ConfabError: bad token ${jwt}` });
  const text = lines.map((line) => JSON.stringify(line)).join('\n');
  assert.not.ok(text.includes(jwt), 'the JWT is nowhere in the log');
  for (const secret of ['resume-123', 'media-456', 'key-789', 's1', 'p1', 'r1', 't1', 's2']) {
    assert.not.ok(text.includes(`"${secret}"`), `${secret} is not in the log`);
  }
  assert.equal(lines[0]!.hello, { name: 'alice', token: REDACTED, resume: REDACTED });
  assert.is(lines[0]!.mediaToken, REDACTED);
  assert.equal(lines[1]!.options, { secret: REDACTED });
  assert.is(lines[2]!.msg, `refused ${REDACTED} at login`);
  assert.is(lines[2]!.error, `ConfabError: bad token ${REDACTED}`);
});

test('pretty: readable lines (time, level, [scope] message, fields inline) for a terminal', () => {
  const lines: string[] = [];
  const log = createLogger({ pretty: true, write: (line) => lines.push(line) });
  log.child('files').info('file stored', { id: 'abc', token: 'nope' });
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[confab:files\] file stored \{"id":"abc","token":"\[redacted\]"\}$/);
});

test('a server whose stderr is a pipe logs JSON lines, and no token, resume token, media token or secret', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-logger-test-'));
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./logger-server.fixture.ts', import.meta.url).pathname, dataDir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', () => {
        const found = /^port (\d+)$/m.exec(stdout);
        if (found) resolve(Number(found[1]));
      });
      void exited.then((code) => reject(new Error(`the fixture exited (${code}): ${stderr}`)));
    });
    const secret = Buffer.from(readFileSync(secretPath(dataDir), 'utf8').trim(), 'base64url');
    const token = await signToken(secret, { room: 'lab', grants: ['join', 'chat'], ttlSeconds: 600 });
    const { client, welcome } = await RawClient.join('tcp', port, { name: 'alice', room: 'lab', token });
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.destroy();
    child.stdin.end();
    assert.is(await exited, 0);

    const lines = stderr.trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(parsed.some((line) => line.scope === 'confab:careless' && line.msg === 'joined'), `the careless plugin logged:\n${stderr}`);
    for (const [what, value] of [['token', token], ['resume token', welcome.resume], ['media token', welcome.mediaToken], ['secret', 'hunter2'],
      ['password', 'hunter3'], ['auth secret', secret.toString('base64url')]] as const) {
      assert.not.ok(stderr.includes(value), `the ${what} is not in the log`);
    }
    assert.ok(stderr.includes(REDACTED));
  } finally {
    child.kill();
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
