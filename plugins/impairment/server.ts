/**
 * The network impairment plugin, for labs: adds latency, jitter, loss and a bandwidth cap to the media
 * frames the server sends to a session or to every member of a room, so students can watch a jitter buffer
 * and the drop policy at work. Rules change live on the `impairment` channel (with the `moderate` grant) or
 * come from the config. Random draws are seeded, so a test or a lab replays the same losses.
 *
 * It taps the core's `mediaOut` hook: a frame it delays is handed back later with `session.deliverMediaFrame`,
 * which still applies the core's slow-receiver policy. Reliable channels (chat…) are never impaired.
 */
import { ConfabError } from '../../core/wire.js';
import { definePlugin } from '../../core/config.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Room, Session } from '../../core/index.js';
import { checkRule, IMPAIRMENT, IMPAIRMENT_ERRORS, type ImpairmentRule, type ImpairmentRulesMessage, type ImpairmentStats, type RuleFields } from './protocol.js';
import { createRandom, sessionSeed } from './random.js';

/** Options of the impairment plugin. */
export interface ImpairmentOptions {
  /** Seed for rules that give none. Default: a random one, logged at start-up. */
  seed?: number;
  /** A frame that would wait longer than this for the bandwidth cap is dropped (a router's full queue). Default 1000 ms. */
  maxQueueMs?: number;
  /** Rules in force from the start, by room name. */
  rooms?: Record<string, Partial<ImpairmentRule>>;
}

/** One receiving session: its own rule, and the state of the rule in force for it. */
interface SessionImpairment {
  rule: ImpairmentRule | undefined;
  /** The rule the state below belongs to; a new rule starts a new generator and new counts. */
  stateFor: ImpairmentRule | undefined;
  random: () => number;
  /** When the capped link is free again (performance.now() ms). */
  linkFreeAt: number;
  stats: ImpairmentStats;
}

/**
 * Creates the impairment plugin.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), impairment({ seed: 1, rooms: { lab1: { latencyMs: 120, jitterMs: 40, loss: 0.02 } } })] });
 */
export function impairment(options: ImpairmentOptions = {}): Plugin {
  const { rooms: initialRooms, ...scalars } = options;
  const settings = readOptions('impairment', scalars, {
    seed: { type: 'integer', min: 0, max: 2 ** 32 - 1 },
    maxQueueMs: { type: 'integer', min: 1, max: 60_000, default: 1000 },
  });
  const defaultSeed = settings.seed ?? Math.floor(Math.random() * 2 ** 32);
  const fullRule = (fields: RuleFields): ImpairmentRule => ({ latencyMs: 0, jitterMs: 0, loss: 0, bandwidthKbps: 0, seed: defaultSeed, ...fields });
  // Rules are kept by room name: one from the config, or set live, applies whenever a room of that name exists.
  const roomRules = new Map<string, ImpairmentRule>();
  for (const [room, rule] of Object.entries(initialRooms ?? {})) {
    const checked = checkRule(rule);
    if (typeof checked === 'string') throw new ConfabError('CONFIG_INVALID', `plugin "impairment": rooms.${room}: ${checked}`);
    roomRules.set(room, fullRule(checked));
  }

  return definePlugin({
    name: 'impairment',
    channels: [IMPAIRMENT],
    errors: IMPAIRMENT_ERRORS,
    setup(ctx) {
      const channel = ctx.channel(IMPAIRMENT);
      const sessions = ctx.perSession((): SessionImpairment => ({
        rule: undefined,
        stateFor: undefined,
        random: Math.random,
        linkFreeAt: 0,
        stats: { delivered: 0, lost: 0, overflow: 0 },
      }));
      if (settings.seed === undefined) ctx.log.info('impairment seed', { seed: defaultSeed });

      /** The rule in force for a session, with its state reset when the rule changed. */
      const impairmentOf = (session: Session): { rule: ImpairmentRule; state: SessionImpairment } | undefined => {
        const state = sessions.get(session);
        const rule = state.rule ?? roomRules.get(session.room.name);
        if (!rule) return undefined;
        if (state.stateFor !== rule) {
          state.stateFor = rule;
          state.random = createRandom(sessionSeed(rule.seed, session.name));
          state.linkFreeAt = 0;
          state.stats = { delivered: 0, lost: 0, overflow: 0 };
        }
        return { rule, state };
      };

      ctx.hooks.mediaOut.tap('impairment', (session, frame, media) => {
        const found = impairmentOf(session);
        if (!found) return undefined;
        const { rule, state } = found;
        if (rule.loss > 0 && state.random() < rule.loss) {
          state.stats.lost++;
          return true;
        }
        let delay = rule.latencyMs;
        if (rule.jitterMs > 0) delay += (state.random() * 2 - 1) * rule.jitterMs;
        if (rule.bandwidthKbps > 0) {
          const now = performance.now();
          const start = Math.max(now, state.linkFreeAt);
          if (start - now > settings.maxQueueMs) {
            state.stats.overflow++;
            return true;
          }
          // kbit/s is bits per millisecond: the frame occupies the link for bits / kbps ms.
          state.linkFreeAt = start + (frame.length * 8) / rule.bandwidthKbps;
          delay += state.linkFreeAt - now;
        }
        state.stats.delivered++;
        if (delay <= 0) return undefined;
        // A frame still on its way when the session ends (or the server closes) is dropped with its timer.
        ctx.setTimeout(session, delay, () => session.deliverMediaFrame(frame, media.stream, media.keyframe ?? false));
        return true;
      });

      const rulesOf = (room: Room): ImpairmentRulesMessage => ({
        op: 'rules',
        room: roomRules.get(room.name) ?? null,
        sessions: Object.fromEntries([...room.sessions].flatMap((s) => {
          const rule = sessions.get(s).rule;
          return rule ? [[s.id, rule]] : [];
        })),
      });

      channel.onMessage((session, request) => {
        const { ref } = request;
        if (!session.grants.has('moderate')) throw IMPAIRMENT_ERRORS.IMPAIRMENT_NOT_ALLOWED({ ref });
        const room = session.room;
        if (request.op === 'get') {
          const stats = Object.fromEntries([...room.sessions].flatMap((s) => (impairmentOf(s) ? [[s.id, sessions.get(s).stats]] : [])));
          channel.send(session, { ...rulesOf(room), stats, ...(ref === undefined ? {} : { ref }) });
          return;
        }
        const { op, session: targetId, ref: _ref, ...fields } = request;
        const target = targetId === undefined ? undefined : room.get(targetId);
        if (targetId !== undefined && !target) {
          throw IMPAIRMENT_ERRORS.IMPAIRMENT_NO_SUCH_SESSION({ ref, message: `no session with id ${JSON.stringify(targetId)} in this room` });
        }
        const rule = op === 'set' ? fullRule(fields) : undefined;
        if (target) sessions.get(target).rule = rule;
        else if (rule) roomRules.set(room.name, rule);
        else roomRules.delete(room.name);
        ctx.log.info('impairment changed', { room: room.name, session: target?.name, by: session.name, rule: request });
        channel.broadcast(room, rulesOf(room));
      });
    },
  });
}
