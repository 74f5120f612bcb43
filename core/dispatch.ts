/**
 * Where a session's incoming frames go: core frames (PING, BYE…) are answered here; channel frames are
 * size-checked, decoded (JSON for json channels) and handed to the channel's `message` hook, and whatever a
 * handler throws goes back to the sender as an ERROR, never out of the server.
 */
import { requestRef } from './channel-def.js';
import type { ChannelDefinition } from './channels.js';
import { ConfabError, isConfabError } from './errors.js';
import { encodeFrame } from './frame.js';
import { decodeJsonObject } from './json.js';
import { RateLimiter } from './limits.js';
import type { ChannelKind } from './protocol.js';
import { FIRST_CHANNEL_ID, FrameType } from './protocol.js';
import type { ConfabServer } from './server.js';
import type { Session } from './session.js';
import { isStoreError, storeWriteError } from './store.js';

/** Names of core frame types, for metrics. */
const CORE_FRAME_NAMES: Record<number, string> = Object.fromEntries(Object.entries(FrameType).map(([name, type]) => [type, name]));

/** Routes the frames of joined sessions. */
export class FrameDispatcher {
  #server: ConfabServer;
  #limiter: RateLimiter | undefined;

  constructor(server: ConfabServer) {
    this.#server = server;
  }

  /** A frame from a session's connection (TCP, WebSocket or a plugin's transport). */
  frame(session: Session, type: number, payload: Uint8Array): void {
    session.lastSeen = Date.now();
    this.#frameIn(session, type, payload);
    if (type < FIRST_CHANNEL_ID) return this.#coreFrame(session, type, payload);
    const channel = this.#server.channels.byId.get(type);
    if (!channel) {
      this.#server.metrics.add(this.#server.metrics.framesIn, 'unknown');
      if (!this.#withinRate(session, 'unknown', 'json')) return;
      return this.#server.sendError(session, new ConfabError('UNKNOWN_FRAME_TYPE',
        `no channel has type id 0x${type.toString(16)}; WELCOME lists the channels`));
    }
    this.#channelFrame(session, channel, payload);
  }

  /** A frame from a session's bound UDP address: only media channels are accepted, others are ignored. */
  udpFrame(session: Session, type: number, payload: Uint8Array): void {
    this.#frameIn(session, type, payload);
    const channel = this.#server.channels.byId.get(type);
    if (!channel || channel.kind !== 'media') {
      this.#server.metrics.add(this.#server.metrics.framesIn, 'udp_ignored');
      return;
    }
    session.lastSeen = Date.now();
    this.#channelFrame(session, channel, payload);
  }

  /** Calls the `frameIn` hook, only when something tapped it. */
  #frameIn(session: Session, type: number, payload: Uint8Array): void {
    const hook = this.#server.hooks.frameIn;
    if (hook.isUsed()) hook.call(session, type, payload);
  }

  #coreFrame(session: Session, type: number, payload: Uint8Array): void {
    const server = this.#server;
    server.metrics.add(server.metrics.framesIn, CORE_FRAME_NAMES[type] ?? 'unknown');
    if (!this.#withinRate(session, 'core', 'json')) return;
    switch (type) {
      case FrameType.PING:
        session.sendUncounted(encodeFrame(FrameType.PONG, payload));
        return;
      case FrameType.PONG:
        session.link.pong(payload, performance.now());
        return;
      case FrameType.BYE:
        server.endSession(session, 'bye');
        return;
      case FrameType.UDP_BIND:
        return server.sendError(session, new ConfabError('CHANNEL_NOT_ALLOWED', 'UDP_BIND is sent over UDP to the server\'s port, not over the connection'));
      default:
        return server.sendError(session, new ConfabError('UNKNOWN_FRAME_TYPE',
          `a client may not send core frame type 0x${type.toString(16).padStart(2, '0')} after HELLO`));
    }
  }

  #channelFrame(session: Session, channel: ChannelDefinition, payload: Uint8Array): void {
    const { metrics, hooks, log } = this.#server;
    metrics.add(metrics.framesIn, channel.name);
    metrics.add(metrics.bytesIn, channel.name, payload.length);
    if (!this.#withinRate(session, channel.name, channel.kind)) return;
    const { maxJsonBytes, maxJsonDepth } = this.#server.options;
    const maxPayload = channel.kind === 'json' ? Math.min(channel.maxPayload, maxJsonBytes) : channel.maxPayload;
    if (payload.length > maxPayload) {
      return this.#channelError(session, channel, new ConfabError('FRAME_TOO_LARGE',
        `channel "${channel.name}" accepts payloads up to ${maxPayload} bytes; this one has ${payload.length}`, { fatal: false }));
    }
    const message = channel.kind === 'json' ? decodeJsonObject(payload, maxJsonDepth) : payload;
    if (message instanceof ConfabError) return this.#channelError(session, channel, message);
    const hook = hooks.message.get(channel.name);
    if (!hook) return;
    // A sampled media frame carries its arrival time while its handlers relay it (core/metrics.ts).
    const sampled = channel.kind === 'media' && metrics.sampleRelay();
    if (sampled) metrics.relayArrival = performance.now();
    try {
      hook.call(session, message);
    } catch (error) {
      if (isConfabError(error)) return this.#channelError(session, channel, error);
      if (isStoreError(error)) {
        // A full or failing disk is this one request's problem, and the client may send it again.
        log.warn('store write failed', { channel: channel.name, error: String(error) });
        return this.#channelError(session, channel, storeWriteError(error, message instanceof Uint8Array ? undefined : requestRef(message)));
      }
      log.error('channel handler failed', { channel: channel.name, error: String(error) });
      this.#channelError(session, channel, new ConfabError('INTERNAL_ERROR', `the "${channel.name}" plugin failed on this message`));
    } finally {
      if (sampled) metrics.relayArrival = undefined;
    }
  }

  /**
   * Takes one message from the session's rate bucket for `key`: false when it must be dropped. The client is
   * told with RATE_LIMITED at most once a second per channel; a session that keeps flooding is closed.
   */
  #withinRate(session: Session, key: string, kind: ChannelKind): boolean {
    const { options, metrics } = this.#server;
    this.#limiter ??= new RateLimiter({
      json: options.jsonMessagesPerSecond,
      binary: options.binaryMessagesPerSecond,
      media: options.mediaMessagesPerSecond,
    }, options.maxDroppedMessages);
    const verdict = this.#limiter.take(session, key, kind);
    if (verdict === 'ok') return true;
    metrics.add(metrics.framesIn, 'rate_limited');
    if (verdict === 'close') {
      this.#server.fail(session, new ConfabError('RATE_LIMIT_ABUSE',
        `more than ${options.maxDroppedMessages} messages over the rate limits within 10 s (last on "${key}")`));
    } else if (verdict === 'drop-and-warn') {
      const error = new ConfabError('RATE_LIMITED', `"${key}" takes at most ${options[`${kind}MessagesPerSecond`]} messages per second per session; messages over it are dropped`);
      if (key !== 'core' && key !== 'unknown') error.channel = key;
      this.#server.sendError(session, error);
    }
    return false;
  }

  #channelError(session: Session, channel: ChannelDefinition, error: ConfabError): void {
    error.channel ??= channel.name;
    if (error.fatal) this.#server.fail(session, error);
    else this.#server.sendError(session, error);
  }
}
