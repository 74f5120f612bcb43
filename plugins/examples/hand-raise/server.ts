/**
 * The hand-raise plugin, server half: a per-room queue of raised hands in the order they went up. A session
 * raises and lowers its own hand; a moderator (`moderate` grant) lowers anyone's and calls the next one.
 * A session that leaves is taken out of the queue.
 */
import { definePlugin } from '../../../core/config.js';
import { ConfabError } from '../../../core/errors.js';
import type { JsonObject } from '../../../core/json.js';
import type { Plugin, Room } from '../../../core/index.js';
import { HANDS_CHANNEL, HANDS_ERRORS, type HandEntry } from './protocol.js';

/**
 * Creates the hand-raise plugin. It has no options.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), handRaise()] });
 */
export function handRaise(): Plugin {
  return definePlugin({
    name: 'hand-raise',
    channels: { [HANDS_CHANNEL]: { kind: 'json', maxPayload: 1024 } },
    setup(ctx) {
      const channel = ctx.channel(HANDS_CHANNEL);
      /** The room's raised hands, first raised first (a Map keeps insertion order). */
      const queues = ctx.perRoom(() => new Map<string, HandEntry>());
      const publish = (room: Room) => channel.broadcast(room, { op: 'queue', queue: [...queues.get(room).values()] });

      ctx.hooks.sessionJoined.tap('hand-raise', (session, room) => {
        channel.send(session, { op: 'queue', queue: [...queues.get(room).values()] });
      });
      ctx.hooks.sessionLeft.tap('hand-raise', (session, room) => {
        if (queues.get(room).delete(session.id) && room.size > 0) publish(room);
      });

      channel.onMessage((session, raw) => {
        const message = raw as JsonObject;
        const queue = queues.get(session.room);
        const fail = (code: keyof typeof HANDS_ERRORS, text?: string) => new ConfabError(code, text ?? HANDS_ERRORS[code], { fatal: false });
        switch (message.op) {
          case 'raise':
            if (queue.has(session.id)) throw fail('HANDS_ALREADY_RAISED');
            queue.set(session.id, { ...session.info, since: Date.now() });
            return publish(session.room);
          case 'lower': {
            const target = message.session ?? session.id;
            if (typeof target !== 'string') throw fail('HANDS_BAD_REQUEST', 'session must be a session id');
            if (target !== session.id && !session.grants.has('moderate')) throw fail('HANDS_NOT_ALLOWED');
            if (!queue.delete(target)) throw fail('HANDS_NOT_RAISED');
            return publish(session.room);
          }
          case 'next': {
            if (!session.grants.has('moderate')) throw fail('HANDS_NOT_ALLOWED');
            const first = queue.values().next().value;
            if (!first) throw fail('HANDS_QUEUE_EMPTY');
            queue.delete(first.id);
            channel.broadcast(session.room, { op: 'called', entry: first, by: session.info });
            return publish(session.room);
          }
          default:
            throw fail('HANDS_BAD_REQUEST', `unknown op ${JSON.stringify(message.op)}; use raise, lower or next`);
        }
      });
    },
  });
}
