import { spawn, execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameType } from '../../core/protocol.js';
import { startTestServer, waitFor } from '../../core/testing.js';
import { chatClient } from '../../plugins/chat/client.js';
import { chat } from '../../plugins/chat/server.js';
import { handRaiseClient } from '../../plugins/examples/hand-raise/client.js';
import { handRaise } from '../../plugins/examples/hand-raise/server.js';
import { LINKTYPE_USER0, readPcap } from '../../plugins/inspector/pcap.js';
import { inspector } from '../../plugins/inspector/server.js';
import { parseTraceLine, type TraceRecord } from '../../plugins/inspector/trace.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/confab.mjs');
const run = promisify(execFile);

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-inspector-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs a chat between alice and bob on a server with the inspector, and alice raises her hand twice (the
 * second time refused with HANDS_ALREADY_RAISED); returns the trace records.
 */
async function recordChat(): Promise<TraceRecord[]> {
  const lab = await startTestServer({ plugins: [inspector({ file: join(dir, 't.jsonl'), pcap: join(dir, 't.pcap') }), chat(), handRaise()] });
  try {
    const alice = await lab.connect('alice', { plugins: { chat: chatClient(), hands: handRaiseClient() } });
    const bob = await lab.connect('bob', { plugins: { chat: chatClient() }, transport: 'ws' });
    await alice.chat.send('hello bob');
    await bob.waitForMessage('chat', { op: 'message' });
    alice.hands.raise();
    alice.hands.raise();
    await alice.waitForError('HANDS_ALREADY_RAISED');
  } finally {
    await lab.close();
  }
  return readFileSync(join(dir, 't.jsonl'), 'utf8').trim().split('\n').map((line) => parseTraceLine(line)!);
}

test('frameIn and frameOut are untapped (and cost a length check) without an inspector', async () => {
  const lab = await startTestServer({ plugins: [chat()] });
  try {
    assert.is(lab.server.hooks.frameIn.isUsed(), false);
    assert.is(lab.server.hooks.frameOut.isUsed(), false);
    assert.is(lab.server.hooks.mediaOut.isUsed(), false);
  } finally {
    await lab.close();
  }
});

test('inspector records every frame both ways with session, channel, op and size', async () => {
  const records = await recordChat();
  assert.ok(records.every(Boolean), 'every line is a trace record');
  const send = records.find((r) => r.dir === 'in' && r.channel === 'chat' && r.op === 'send')!;
  assert.ok(send, 'alice\'s send is recorded');
  assert.is(send.name, 'alice');
  assert.is(send.room, 'default');
  assert.ok(send.size > 'hello bob'.length && send.size < 200);
  const delivered = records.find((r) => r.dir === 'out' && r.channel === 'chat' && r.op === 'message')!;
  assert.is(delivered.name, 'bob');
  assert.ok(records.some((r) => r.dir === 'out' && r.channel === 'chat' && r.op === 'ack' && r.name === 'alice'));
  assert.equal(records.filter((r) => r.channel === 'WELCOME').map((r) => r.name), ['alice', 'bob']);
  assert.ok(records.some((r) => r.channel === 'PEER_JOINED' && r.name === 'alice'));
  assert.ok(records.some((r) => r.channel === 'BYE' && r.dir === 'in'), 'the clients\' BYE');
  assert.not.ok(records.some((r) => r.channel === 'PING' || r.channel === 'PONG'), 'heartbeats are left out by default');
  const times = records.map((r) => r.t);
  assert.equal(times, [...times].sort((a, b) => a - b), 'records are in time order');
});

test('inspector records an excerpt of JSON payloads, and an ERROR\'s code and the channel it concerns', async () => {
  const records = await recordChat();
  const send = records.find((r) => r.dir === 'in' && r.channel === 'chat' && r.op === 'send')!;
  assert.match(send.excerpt!, /^\{"op":"send",.*"text":"hello bob"/);
  const queue = records.find((r) => r.channel === 'hands' && r.op === 'queue' && r.excerpt!.includes('alice'))!;
  assert.ok(queue, 'the queue with alice in it');
  assert.ok(records.find((r) => r.channel === 'WELCOME')!.excerpt!.length <= 120, 'excerpts are short');
  const error = records.find((r) => r.channel === 'ERROR')!;
  assert.equal([error.dir, error.name, error.code, error.errorChannel], ['out', 'alice', 'HANDS_ALREADY_RAISED', 'hands']);
  assert.match(error.excerpt!, /"code":"HANDS_ALREADY_RAISED"/);
  assert.is(records.filter((r) => r.code !== undefined).length, 1, 'only ERROR frames have a code');
});

test('inspector pcap: LINKTYPE_USER0 header and one record per traced frame, frames intact', async () => {
  const records = await recordChat();
  const bytes = readFileSync(join(dir, 't.pcap'));
  assert.equal([...bytes.subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1], 'little-endian microsecond magic');
  const pcap = readPcap(bytes);
  assert.is(pcap.linktype, LINKTYPE_USER0);
  assert.is(pcap.linktype, 147);
  assert.is(pcap.packets.length, records.length);
  pcap.packets.forEach((packet, i) => {
    assert.is(packet.type, records[i]!.type);
    assert.is(packet.dir, records[i]!.dir);
    assert.is(packet.session, records[i]!.session);
    assert.is(packet.payload.length, records[i]!.size);
    assert.ok(Math.abs(packet.t - records[i]!.t) < 0.01, 'same time, to the microsecond');
  });
  const send = pcap.packets.find((_, i) => records[i]!.op === 'send')!;
  assert.is(JSON.parse(Buffer.from(send.payload).toString()).text, 'hello bob');
  const welcome = pcap.packets.find((p) => p.type === FrameType.WELCOME)!;
  assert.is(JSON.parse(Buffer.from(welcome.payload).toString()).v, 1);
  assert.throws(() => readPcap(bytes.subarray(0, bytes.length - 3)), /bad record|truncated/);
  assert.throws(() => readPcap(Buffer.from('not a pcap file at all....')), /not a/);
});

test('inspector pcap: snaplen cuts long packets and keeps their original length', async () => {
  const lab = await startTestServer({ plugins: [inspector({ file: join(dir, 't.jsonl'), pcap: join(dir, 't.pcap'), snaplen: 64 }), chat()] });
  try {
    const alice = await lab.connect('alice', { plugins: { chat: chatClient() } });
    await alice.chat.send('x'.repeat(500));
  } finally {
    await lab.close();
  }
  const { packets, snaplen } = readPcap(readFileSync(join(dir, 't.pcap')));
  assert.is(snaplen, 64);
  const long = packets.find((p) => p.originalLength > 500)!;
  assert.ok(long, 'the long message was captured');
  assert.is(2 + long.session.length + 5 + long.payload.length, 64);
});

test('confab trace prints a table filtered by session and channel; skips lines that are not records', async () => {
  await recordChat();
  const file = join(dir, 't.jsonl');
  appendFileSync(file, 'garbage line\n{"t":"soon"}\n');
  const { stdout, stderr } = await run(process.execPath, [CLI, 'trace', file, '--session', 'alice', '--channel', 'chat']);
  const rows = stdout.trim().split('\n');
  assert.match(rows[0]!, /^time\s+dir\s+session\s+room\s+channel\s+op\s+bytes\s+excerpt$/);
  assert.is(rows.length, 4, `header, alice's history, send and ack:\n${stdout}`);
  assert.match(rows[1]!, /←\s+alice .*chat\s+history/);
  assert.match(rows[2]!, /^\d\d:\d\d:\d\d\.\d{3}\s+→\s+alice \(.{6}\)\s+default\s+chat\s+send\s+\d+ \{"op":"send",/);
  assert.match(rows[3]!, /←\s+alice .*chat\s+ack/);
  assert.match(stderr, /skipped 2 lines/);

  const hands = (await run(process.execPath, [CLI, 'trace', file, '--channel', 'hands'])).stdout.trim().split('\n').slice(1);
  const error = hands.filter((row) => row.includes('ERROR'));
  assert.is(error.length, 1, `the ERROR about hands is shown with the hands frames:\n${hands.join('\n')}`);
  assert.match(error[0]!, /←\s+alice .*ERROR hands\s+HANDS_ALREADY_RAISED\s+\d+ \{"code":"HANDS_ALREADY_RAISED"/);
  assert.ok(hands.some((row) => /→\s+alice .*hands\s+raise\s+\d+ \{"op":"raise"/.test(row)), 'the raise, with its excerpt');
  const chatOnly = (await run(process.execPath, [CLI, 'trace', file, '--channel', 'chat'])).stdout;
  assert.not.match(chatOnly, /ERROR/, 'an ERROR about another channel is not shown');

  const json = await run(process.execPath, [CLI, 'trace', file, '--dir', 'out', '--channel', 'WELCOME', '--json']);
  assert.equal(json.stdout.trim().split('\n').map((line) => JSON.parse(line).name), ['alice', 'bob']);

  const missing = await run(process.execPath, [CLI, 'trace', join(dir, 'nope.jsonl')]).catch((error) => error);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /TRACE_NOT_FOUND/);
  const usage = await run(process.execPath, [CLI, 'trace', file, '--dir', 'sideways']).catch((error) => error);
  assert.is(usage.code, 2);
});

test('confab trace --follow shows records as they are appended, across a partial line', async () => {
  const file = join(dir, 'live.jsonl');
  writeFileSync(file, '');
  const record = (op: string) => JSON.stringify({ t: Date.now(), dir: 'in', session: 'abcdef123', name: 'carol', room: 'lab', type: 16, channel: 'polls', op, size: 10 });
  const child = spawn(process.execPath, [CLI, 'trace', file, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  try {
    await waitFor(() => out.includes('bytes'), 'the header', 20_000);
    appendFileSync(file, `${record('create')}\n`);
    await waitFor(() => out.includes('create'), 'the first record', 5000);
    const second = record('vote');
    appendFileSync(file, second.slice(0, 20));
    appendFileSync(file, `${second.slice(20)}\n`);
    await waitFor(() => out.includes('vote'), 'the record written in two parts', 5000);
    assert.is(out.split('\n').filter((line) => line.includes('carol')).length, 2);
  } finally {
    child.kill('SIGINT');
    const code = await new Promise((done) => child.once('exit', done));
    assert.is(code, 0);
  }
});

test('by default the trace and the pcap go to the data directory, where confab trace finds them', async () => {
  const dataDir = join(dir, 'data');
  assert.throws(() => inspector({ pcap: '' }), /option pcap must be true, false or a file path/);
  const lab = await startTestServer({ plugins: [inspector({ pcap: true }), chat()], server: { dataDir } });
  try {
    const alice = await lab.connect('alice', { plugins: { chat: chatClient() } });
    await alice.chat.send('hi');
  } finally {
    await lab.close({ keepData: true });
  }
  const pcap = readPcap(readFileSync(join(dataDir, 'plugins/inspector/trace.pcap')));
  const { stdout } = await run(process.execPath, [CLI, 'trace', '--data-dir', dataDir, '--json']);
  const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as TraceRecord);
  assert.ok(records.some((r) => r.op === 'send' && r.name === 'alice'));
  assert.is(pcap.packets.length, records.length, 'one packet per record');
  const missing = await run(process.execPath, [CLI, 'trace'], { cwd: dir }).catch((error) => error);
  assert.match(missing.stderr, /TRACE_NOT_FOUND.*\.confab\/plugins\/inspector\/trace\.jsonl/);
});

test('trace.jsonl and trace.pcap are git-ignored, wherever a config puts them in the repository', async () => {
  const { stdout } = await run('git', ['check-ignore', '--no-index', 'trace.jsonl', 'trace.pcap', 'labs/trace.pcap'], { cwd: ROOT });
  assert.equal(stdout.trim().split('\n'), ['trace.jsonl', 'trace.pcap', 'labs/trace.pcap']);
});

test.run();
