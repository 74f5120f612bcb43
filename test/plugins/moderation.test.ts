/**
 * The moderation plugin's own checks, with the shared harness: what parse refuses, a plugin's own grants in
 * the state and in `allow`, and the lobby's timers, which go with their room. (Moderation with auth, the
 * media it stops and the lobby's handshake are in test/security/moderation.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { FrameType } from '../../core/protocol.js';
import { startTestServer } from '../../core/testing.js';
import { RawClient } from '../helpers/raw-client.js';
import { moderationClient } from '../../plugins/moderation/client.js';
import { parseModerationRequest } from '../../plugins/moderation/protocol.js';
import { moderation } from '../../plugins/moderation/server.js';

/** A plugin with a grant of its own, and sessions named `guest…` without `moderate` (as auth would do). */
const countdown = definePlugin({
  name: 'countdown',
  grants: ['countdown:start'],
  setup(ctx) {
    ctx.hooks.handshake.tapPromise('countdown', async (hello, info) => {
      if (hello.name.startsWith('guest')) info.grants.delete('moderate');
      return undefined;
    });
  },
});

test('parseModerationRequest() refuses unknown ops and missing or mistyped fields with MODERATION_BAD_REQUEST and the ref', () => {
  const refusals: JsonObject[] = [
    { op: 'ban', id: 's1', ref: 'r1' },
    { op: 'mute', ref: 'r1' },
    { op: 'admit', id: 5, ref: 'r1' },
    { op: 'allow', id: 's1', ref: 'r1' },
    { op: 'lobby', on: 'yes', ref: 'r1' },
  ];
  for (const message of refusals) {
    try {
      parseModerationRequest(message);
      assert.unreachable(`${JSON.stringify(message)} was accepted`);
    } catch (error) {
      assert.ok(isConfabError(error) && error.code === 'MODERATION_BAD_REQUEST' && error.ref === 'r1', JSON.stringify(message));
    }
  }
  assert.equal(parseModerationRequest({ op: 'remove', id: 's1', reason: 'x'.repeat(300) }), { op: 'remove', id: 's1', reason: 'x'.repeat(200), ref: undefined });
  assert.equal(parseModerationRequest({ op: 'revoke', id: 's1', reason: 42 }), { op: 'revoke', id: 's1', ref: undefined }, 'a reason that is no string is left out');
});

test('moderation: the state lists a plugin\'s own grants; allow gives back media grants only', async () => {
  const lab = await startTestServer({ plugins: [countdown, moderation()] });
  try {
    const mo = await lab.connect('mo', { plugins: { mod: moderationClient() } });
    const state = await mo.waitForMessage('moderation', { op: 'state' });
    assert.ok(state.grants.includes('countdown:start'), 'a session starts with the plugin\'s grant');
    const { client: raw, welcome } = await RawClient.join('tcp', lab.port, { name: 'mallory', room: 'default' });
    raw.sendJson(welcome.channels.moderation!, { op: 'allow', id: mo.id, grant: 'countdown:start', ref: 'a1' });
    raw.sendJson(welcome.channels.moderation!, { op: 'mute', ref: 'a2' });
    const errors = [await raw.nextError(), await raw.nextError()].map((e) => `${e.code} ${e.ref}`);
    assert.equal(errors, ['MODERATION_NOT_ALLOWABLE a1', 'MODERATION_BAD_REQUEST a2']);
    raw.destroy();
  } finally {
    await lab.close();
  }
});

/** Timers keeping the process alive now (the server runs in this process). */
const pendingTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('moderation: when the room goes, its lobby newcomers get MODERATION_LOBBY_CLOSED and the lobby\'s timers stop', async () => {
  const lab = await startTestServer({ plugins: [countdown, moderation({ lobbyNoticeMs: 100 })] });
  try {
    const mo = await lab.connect('mo', { plugins: { mod: moderationClient() } });
    mo.mod.setLobby(true);
    await lab.waitFor(() => mo.mod.lobby, 'the lobby to be on');
    const before = pendingTimers();
    const guests = await Promise.all(Array.from({ length: 10 }, () => RawClient.tcp(lab.port)));
    guests.forEach((guest, i) => guest.sendJson(FrameType.HELLO, { v: 1, name: `guest${i}`, room: 'default' }));
    await lab.waitFor(() => mo.mod.waiting.length === 10, 'the ten guests in the lobby');
    assert.ok(pendingTimers() >= before + 20, 'a timeout and a reminder per guest');
    await mo.close();
    for (const guest of guests) {
      const refusal = await guest.next((frame) => frame.type === FrameType.ERROR && frame.json.code !== 'MODERATION_IN_LOBBY');
      assert.equal([refusal.json.code, refusal.json.fatal], ['MODERATION_LOBBY_CLOSED', true]);
    }
    await lab.waitFor(() => pendingTimers() <= before, 'the lobby\'s timers to stop with the room');
  } finally {
    await lab.close();
  }
});

test.run();
