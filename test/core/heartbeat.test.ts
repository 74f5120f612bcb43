import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameType } from '../../core/protocol.js';
import { RawClient } from '../helpers/raw-client.js';
import { sleep, startTestServer } from '../../core/testing.js';

const FAST = { heartbeatMs: 100, idleTimeoutMs: 500, resumeGraceMs: 300 };

test('a silent session gets IDLE_TIMEOUT, its connection closes, and peers see PEER_LEFT "timeout" after the grace', async () => {
  const server = await startTestServer({ plugins: [], server: FAST });
  try {
    const watcher = await RawClient.join('ws', server.port, { name: 'watcher' });
    const silent = await RawClient.join('tcp', server.port, { name: 'silent' });
    const keepAlive = setInterval(() => watcher.client.send(FrameType.PING), 100);
    try {
      assert.is(silent.welcome.heartbeatMs, 100);
      const error = await silent.client.nextError(3000);
      assert.is(error.code, 'IDLE_TIMEOUT');
      assert.is(error.fatal, false, 'the session may still be resumed');
      await silent.client.closed;
      const left = await watcher.client.next((f) => f.type === FrameType.PEER_LEFT, 3000);
      assert.equal(left.json, { id: silent.welcome.session, name: 'silent', reason: 'timeout' });
      assert.not.ok(watcher.client.isClosed, 'a client that pings stays');
    } finally {
      clearInterval(keepAlive);
    }
    watcher.client.destroy();
  } finally {
    await server.close();
  }
});

test('a session that pings every heartbeatMs outlives many idle timeouts', async () => {
  const server = await startTestServer({ plugins: [], server: FAST });
  try {
    const { client } = await RawClient.join('tcp', server.port, { name: 'steady' });
    const keepAlive = setInterval(() => client.send(FrameType.PING), 100);
    await sleep(1500);
    clearInterval(keepAlive);
    assert.not.ok(client.isClosed);
    assert.is(client.frames.filter((f) => f.type === FrameType.ERROR).length, 0);
    assert.ok(client.frames.filter((f) => f.type === FrameType.PONG).length >= 10);
    client.destroy();
  } finally {
    await server.close();
  }
});

test('any frame counts as activity, not only PING', async () => {
  const server = await startTestServer({ plugins: [], server: FAST });
  try {
    const { client } = await RawClient.join('tcp', server.port, { name: 'talker' });
    const keepAlive = setInterval(() => client.send(FrameType.PONG), 100);
    await sleep(1000);
    clearInterval(keepAlive);
    assert.not.ok(client.isClosed);
    client.destroy();
  } finally {
    await server.close();
  }
});

test('a session cut by IDLE_TIMEOUT resumes when the client counts the ERROR like any other frame', async () => {
  const server = await startTestServer({ plugins: [], server: { ...FAST, resumeGraceMs: 5000 } });
  try {
    const silent = await RawClient.join('tcp', server.port, { name: 'sleepy' });
    const other = await RawClient.join('tcp', server.port, { name: 'other' });
    await silent.client.next((f) => f.type === FrameType.PEER_JOINED);
    const error = await silent.client.nextError(3000);
    assert.is(error.code, 'IDLE_TIMEOUT');
    await silent.client.closed;
    const back = await RawClient.tcp(server.port);
    back.sendJson(FrameType.HELLO, { v: 1, name: 'sleepy', resume: silent.welcome.resume, received: 2 /* PEER_JOINED, ERROR */ });
    const welcome = await back.next((f) => f.type === FrameType.WELCOME || f.type === FrameType.ERROR);
    assert.is(welcome.type, FrameType.WELCOME, JSON.stringify(welcome.json));
    assert.is(welcome.json.resumed, true);
    back.destroy();
    other.client.destroy();
  } finally {
    await server.close();
  }
});

test.run();
