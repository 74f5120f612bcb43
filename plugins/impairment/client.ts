/**
 * The impairment plugin, client half: set, clear and read the impairment rules of the room (needs the
 * `moderate` grant), and follow them as they change.
 *
 * @example
 *   const net = client.use(impairmentClient());
 *   await client.connect();
 *   net.set({ latencyMs: 150, jitterMs: 50, loss: 0.05 });            // the whole room
 *   net.set({ bandwidthKbps: 300 }, { session: peer.id });            // one participant
 *   const { stats } = await net.get();                                // delivered / lost / overflow
 */
import type { ConfabError } from '../../core/wire.js';
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { replyOf } from '../../core/client/requests.js';
import { IMPAIRMENT, type ImpairmentRule, type ImpairmentRulesMessage } from './protocol.js';

/** Events of the impairment client half. */
export type ImpairmentEvents = {
  /** The room's rules changed. */
  rules: [ImpairmentRulesMessage];
  /** The server refused a request of this client (IMPAIRMENT_NOT_ALLOWED…). */
  error: [ConfabError];
};

/** What `client.use(impairmentClient())` returns. */
export interface ImpairmentApi extends Pick<Emitter<ImpairmentEvents>, 'on' | 'off' | 'once'> {
  /** Sets the rule of the room, or of one session; omitted fields are 0. */
  set(rule: Partial<ImpairmentRule>, target?: { session?: string }): void;
  /** Removes the rule of the room, or of one session. */
  clear(target?: { session?: string }): void;
  /** Asks for the rules and each impaired session's counts; rejects with the server's error. */
  get(): Promise<ImpairmentRulesMessage>;
}

/** Creates the impairment client half. */
export function impairmentClient(): ClientPlugin<ImpairmentApi> {
  return {
    name: 'impairment',
    attach(ctx) {
      const events = new Emitter<ImpairmentEvents>();
      const channel = ctx.channel(IMPAIRMENT);
      channel.onMessage((message) => events.emit('rules', message));
      ctx.onError((error) => events.emit('error', error));
      const target = (options?: { session?: string }) => (options?.session === undefined ? {} : { session: options.session });
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        set: (rule, options) => void channel.send({ op: 'set', ...rule, ...target(options) }),
        clear: (options) => void channel.send({ op: 'clear', ...target(options) }),
        get: async () => replyOf(await channel.request({ op: 'get' }), 'rules'),
      };
    },
  };
}
