import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../../core/testing.js';
import { RawClient } from '../helpers/raw-client.js';
import { pollsClient } from '../../plugins/examples/polls/client.js';
import { polls } from '../../plugins/examples/polls/server.js';

test('polls: create, vote once per session, live results to the room, close; other rooms see nothing', async () => {
  const lab = await startTestServer({ plugins: [polls()] });
  try {
    const alice = await lab.connect('alice', { plugins: { polls: pollsClient() } });
    const bob = await lab.connect('bob', { plugins: { polls: pollsClient() }, transport: 'ws' });
    const eve = await lab.connect('eve', { room: 'elsewhere', plugins: { polls: pollsClient() } });

    const poll = await alice.polls.create('Lunch?', ['pizza', 'soup']);
    assert.equal(poll.counts, [0, 0]);
    assert.is(poll.open, true);
    await bob.waitForMessage('polls', (m) => m.poll?.id === poll.id);

    const afterBob = await bob.polls.vote(poll.id, 1);
    assert.equal(afterBob.counts, [0, 1]);
    await alice.waitForMessage('polls', (m) => m.poll?.total === 1);
    assert.equal(alice.polls.polls.get(poll.id)!.counts, [0, 1], 'alice sees the vote live');

    const again = await bob.polls.vote(poll.id, 0).catch((error) => error);
    assert.is(again.code, 'POLLS_ALREADY_VOTED');
    assert.is(again.ref !== undefined, true);

    lab.session(bob).grants.delete('moderate');
    const bobClose = await bob.polls.close(poll.id).catch((error) => error);
    assert.is(bobClose.code, 'POLLS_NOT_ALLOWED', 'only the creator or a moderator closes');

    await alice.polls.vote(poll.id, 0);
    const closed = await alice.polls.close(poll.id);
    assert.equal({ open: closed.open, counts: closed.counts, total: closed.total }, { open: false, counts: [1, 1], total: 2 });
    await bob.waitForMessage('polls', (m) => m.poll?.open === false);

    const late = await bob.polls.vote(poll.id, 0).catch((error) => error);
    assert.is(late.code, 'POLLS_CLOSED');
    const carol = await lab.connect('carol', { plugins: { polls: pollsClient() } });
    await carol.waitForMessage('polls', { op: 'polls' });
    assert.equal(carol.polls.polls.get(poll.id)!.counts, [1, 1], 'a late joiner gets the polls with their results');
    assert.is((await carol.polls.vote(poll.id, 0).catch((e) => e)).code, 'POLLS_CLOSED');

    assert.is(eve.messages('polls').filter((m) => m.op === "poll").length, 0, 'rooms are isolated');
  } finally {
    await lab.close();
  }
});

test('polls: a moderator closes anyone\'s poll; a session without moderate cannot', async () => {
  const lab = await startTestServer({ plugins: [polls()] });
  try {
    const alice = await lab.connect('alice', { plugins: { polls: pollsClient() } });
    const mod = await lab.connect('mod', { plugins: { polls: pollsClient() } });
    const poll = await alice.polls.create('Break now?', ['yes', 'no']);
    lab.session(mod).grants.delete('moderate');
    assert.is((await mod.polls.close(poll.id).catch((e) => e)).code, 'POLLS_NOT_ALLOWED');
    lab.session(mod).grants.add('moderate');
    assert.is((await mod.polls.close(poll.id)).open, false);
  } finally {
    await lab.close();
  }
});

test('polls: malformed requests get coded errors and never disturb the room', async () => {
  const lab = await startTestServer({ plugins: [polls({ maxOpenPolls: 1, maxOptions: 3 })] });
  try {
    const alice = await lab.connect('alice', { plugins: { polls: pollsClient() } });
    const bad = async (question: string, options: unknown) =>
      (await alice.polls.create(question, options as string[]).catch((e) => e)).code;
    assert.is(await bad('Q?', ['one']), 'POLLS_BAD_REQUEST');
    assert.is(await bad('Q?', ['a', 'b', 'c', 'd']), 'POLLS_BAD_REQUEST');
    assert.is(await bad('', ['a', 'b']), 'POLLS_BAD_REQUEST');
    assert.is(await bad('Q?', ['a', 42]), 'POLLS_BAD_REQUEST');
    assert.is(await bad('x'.repeat(201), ['a', 'b']), 'POLLS_BAD_REQUEST');
    const poll = await alice.polls.create('Q?', ['a', 'b']);
    assert.is(await bad('Second?', ['a', 'b']), 'POLLS_TOO_MANY');
    assert.is((await alice.polls.vote(poll.id, 2).catch((e) => e)).code, 'POLLS_BAD_REQUEST');
    assert.is((await alice.polls.vote(poll.id, 0.5).catch((e) => e)).code, 'POLLS_BAD_REQUEST');
    assert.is((await alice.polls.vote('p999', 0).catch((e) => e)).code, 'POLLS_NO_SUCH_POLL');

    // Hostile bytes on the channel from a raw client: errors for it, nothing for alice.
    const { client: raw, welcome } = await RawClient.join('tcp', lab.port, { name: 'mallory', room: 'default' });
    const id = welcome.channels.polls!;
    raw.sendJson(id, { op: 'vote', poll: { $ne: 1 }, choice: 0 });
    raw.sendJson(id, { op: 'drop-table' });
    raw.sendJson(id, [1, 2, 3]);
    const codes = [await raw.nextError(), await raw.nextError(), await raw.nextError()].map((e) => e.code);
    assert.equal(codes, ['POLLS_BAD_REQUEST', 'POLLS_BAD_REQUEST', 'INVALID_JSON'], 'a poll id that is no string is refused by parse');
    assert.is((await alice.polls.vote(poll.id, 1)).total, 1, 'alice still votes normally');
    raw.destroy();
  } finally {
    await lab.close();
  }
});

test.run();
