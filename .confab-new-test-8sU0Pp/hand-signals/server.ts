/**
 * The hand-signals plugin, server half: a counter per room that anyone can change and everyone sees.
 */
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import type { Plugin } from '../../core/types.js';
import { HAND_SIGNALS_CHANNEL, HAND_SIGNALS_ERRORS, MAX_STEP } from './protocol.js';

/**
 * Creates the hand-signals plugin.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), handSignals()] });
 */
export function handSignals(): Plugin {
  return definePlugin({
    name: 'hand-signals',
    channels: { [HAND_SIGNALS_CHANNEL]: { kind: 'json', maxPayload: 1024 } },
    setup(ctx) {
      const channel = ctx.channel(HAND_SIGNALS_CHANNEL);
      const counters = ctx.perRoom(() => ({ value: 0 }));

      ctx.hooks.sessionJoined.tap('hand-signals', (session, room) => {
        channel.send(session, { op: 'count', value: counters.get(room).value });
      });

      channel.onMessage((session, raw) => {
        const message = raw as JsonObject;
        if (message.op !== 'add' || !Number.isInteger(message.by) || Math.abs(message.by as number) > MAX_STEP) {
          throw new ConfabError('HAND_SIGNALS_BAD_REQUEST', HAND_SIGNALS_ERRORS.HAND_SIGNALS_BAD_REQUEST, { fatal: false });
        }
        const counter = counters.get(session.room);
        counter.value += message.by as number;
        channel.broadcast(session.room, { op: 'count', value: counter.value, by: session.info });
      });
    },
  });
}
