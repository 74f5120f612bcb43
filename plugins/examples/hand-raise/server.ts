/**
 * The hand-raise plugin, server half: a per-room queue of raised hands in the order they went up. A session
 * raises and lowers its own hand; a moderator (`moderate` grant) lowers anyone's and calls the next one.
 * A session that leaves is taken out of the queue.
 */
import { definePlugin } from '../../../core/config.js';
import type { Plugin, Room } from '../../../core/index.js';
import { HANDS, HANDS_ERRORS, type HandEntry } from './protocol.js';

/**
 * Creates the hand-raise plugin. It has no options.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), handRaise()] });
 */
export function handRaise(): Plugin {
  return definePlugin({
    name: 'hand-raise',
    channels: [HANDS],
    errors: HANDS_ERRORS,
    client: new URL('./entry.ts', import.meta.url),
    setup(ctx) {
      const channel = ctx.channel(HANDS);
      /** The room's raised hands, first raised first (a Map keeps insertion order). */
      const queues = ctx.perRoom(() => new Map<string, HandEntry>());
      const publish = (room: Room) => channel.broadcast(room, { op: 'queue', queue: [...queues.get(room).values()] });

      ctx.hooks.sessionJoined.tap('hand-raise', (session, room) => {
        channel.send(session, { op: 'queue', queue: [...queues.get(room).values()] });
      });
      ctx.hooks.sessionLeft.tap('hand-raise', (session, room) => {
        if (queues.get(room).delete(session.id) && room.size > 0) publish(room);
      });

      channel.onMessage((session, request) => {
        const { ref } = request;
        const queue = queues.get(session.room);
        switch (request.op) {
          case 'raise':
            if (queue.has(session.id)) throw HANDS_ERRORS.HANDS_ALREADY_RAISED({ ref });
            queue.set(session.id, { ...session.info, since: Date.now() });
            return publish(session.room);
          case 'lower': {
            const target = request.session ?? session.id;
            if (target !== session.id && !session.grants.has('moderate')) throw HANDS_ERRORS.HANDS_NOT_ALLOWED({ ref });
            if (!queue.delete(target)) throw HANDS_ERRORS.HANDS_NOT_RAISED({ ref });
            return publish(session.room);
          }
          case 'next': {
            if (!session.grants.has('moderate')) throw HANDS_ERRORS.HANDS_NOT_ALLOWED({ ref });
            const first = queue.values().next().value;
            if (!first) throw HANDS_ERRORS.HANDS_QUEUE_EMPTY({ ref });
            queue.delete(first.id);
            channel.broadcast(session.room, { op: 'called', entry: first, by: session.info });
            return publish(session.room);
          }
        }
      });
    },
  });
}
