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
import { ConfabError } from '../../core/errors.js';
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { IMPAIRMENT_CHANNEL, type ImpairmentRule, type ImpairmentRulesMessage } from './protocol.js';

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
      const waiting = new Map<string, { resolve(m: ImpairmentRulesMessage): void; reject(e: ConfabError): void }>();
      let counter = 0;
      ctx.onMessage(IMPAIRMENT_CHANNEL, (raw) => {
        const message = raw as unknown as ImpairmentRulesMessage;
        const request = message.ref === undefined ? undefined : waiting.get(message.ref);
        if (request) {
          waiting.delete(message.ref!);
          request.resolve(message);
        } else events.emit('rules', message);
      });
      ctx.onError((error) => {
        const request = error.ref === undefined ? undefined : waiting.get(error.ref);
        if (!request) return void events.emit('error', error);
        waiting.delete(error.ref!);
        request.reject(error);
      });
      ctx.on('close', ({ reason, error }) => {
        for (const request of waiting.values()) request.reject(error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason})`));
        waiting.clear();
      });
      const target = (options?: { session?: string }) => (options?.session === undefined ? {} : { session: options.session });
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        set: (rule, options) => void ctx.send(IMPAIRMENT_CHANNEL, { op: 'set', ...rule, ...target(options) }),
        clear: (options) => void ctx.send(IMPAIRMENT_CHANNEL, { op: 'clear', ...target(options) }),
        get: () =>
          new Promise((resolve, reject) => {
            const ref = `g${++counter}`;
            waiting.set(ref, { resolve, reject });
            ctx.send(IMPAIRMENT_CHANNEL, { op: 'get', ref });
          }),
      };
    },
  };
}
