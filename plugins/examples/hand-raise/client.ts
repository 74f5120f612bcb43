/**
 * The hand-raise plugin, client half: raise and lower a hand, follow the room's queue, and (with the
 * `moderate` grant) lower others' hands and call the next one.
 *
 * @example
 *   const hands = client.use(handRaiseClient());
 *   hands.on('queue', (queue) => console.log(queue.map((h) => h.name).join(', ')));
 *   hands.on('called', ({ entry }) => console.log(`${entry.name}, go ahead`));
 *   await client.connect();
 *   hands.raise();
 */
import type { ConfabError } from '../../../core/wire.js';
import type { ClientPlugin } from '../../../core/client/types.js';
import { Emitter } from '../../../core/client/emitter.js';
import { HANDS, type HandEntry } from './protocol.js';

/** Events of the hand-raise client half. */
export type HandsEvents = {
  /** The queue changed (or arrived on join); first raised first. */
  queue: [HandEntry[]];
  /** A moderator called the first in the queue. */
  called: [{ entry: HandEntry; by: { id: string; name: string } }];
  /** The server refused a request of this client (HANDS_NOT_ALLOWED…). */
  error: [ConfabError];
};

/** What `client.use(handRaiseClient())` returns. */
export interface HandsApi extends Pick<Emitter<HandsEvents>, 'on' | 'off' | 'once'> {
  /** The room's queue as last received. */
  readonly queue: readonly HandEntry[];
  /** True when this client's hand is in the queue. */
  readonly raised: boolean;
  /** Raises this client's hand. */
  raise(): void;
  /** Lowers this client's hand, or with `sessionId` someone else's (moderators). */
  lower(sessionId?: string): void;
  /** Calls the first in the queue (moderators). */
  next(): void;
}

/** Creates the hand-raise client half. */
export function handRaiseClient(): ClientPlugin<HandsApi> {
  return {
    name: 'hand-raise',
    attach(ctx) {
      const events = new Emitter<HandsEvents>();
      let queue: HandEntry[] = [];
      const channel = ctx.channel(HANDS);
      channel.onMessage((message) => {
        if (message.op === 'called') return void events.emit('called', { entry: message.entry, by: message.by });
        queue = message.queue;
        events.emit('queue', queue);
      });
      ctx.onError((error) => events.emit('error', error));
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get queue() {
          return queue;
        },
        get raised() {
          const self = ctx.client.self;
          return self !== undefined && queue.some((entry) => entry.id === self.id);
        },
        raise: () => void channel.send({ op: 'raise' }),
        lower: (sessionId) => void channel.send(sessionId === undefined ? { op: 'lower' } : { op: 'lower', session: sessionId }),
        next: () => void channel.send({ op: 'next' }),
      };
    },
  };
}
