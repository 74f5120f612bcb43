/**
 * The hand-signals plugin, client half: change the room's counter and follow it.
 *
 * @example
 *   const handSignalsApi = client.use(handSignalsClient());
 *   handSignalsApi.on('count', (value) => console.log(value));
 *   await client.connect();
 *   handSignalsApi.add(1);
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { HAND_SIGNALS_CHANNEL, type HandSignalsCount } from './protocol.js';

/** Events of the hand-signals client half. */
export type HandSignalsEvents = {
  /** The counter changed (or arrived on join). */
  count: [number];
};

/** What `client.use(handSignalsClient())` returns. */
export interface HandSignalsApi extends Pick<Emitter<HandSignalsEvents>, 'on' | 'off' | 'once'> {
  /** The room's counter as last received. */
  readonly value: number;
  /** Adds `by` (default 1) to the room's counter. */
  add(by?: number): void;
}

/** Creates the hand-signals client half. */
export function handSignalsClient(): ClientPlugin<HandSignalsApi> {
  return {
    name: 'hand-signals',
    attach(ctx) {
      const events = new Emitter<HandSignalsEvents>();
      let value = 0;
      ctx.onMessage(HAND_SIGNALS_CHANNEL, (raw) => {
        const message = raw as unknown as HandSignalsCount;
        value = message.value;
        events.emit('count', value);
      });
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get value() {
          return value;
        },
        add: (by = 1) => void ctx.send(HAND_SIGNALS_CHANNEL, { op: 'add', by }),
      };
    },
  };
}
