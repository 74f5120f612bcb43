/**
 * The checks every media plugin runs on a frame before relaying or mixing it: a well-formed header
 * (core/media.ts, with a temporal layer of 0–2 and a keyframe only on layer 0), a codec the plugin accepts, a
 * size under its limit, a VP8 frame whose keyframe flag matches its own frame tag (a delta announced as a
 * keyframe would be cached and replayed as one), a sender the session owns, and the grant to publish.
 *
 * A refused frame is dropped and counted in `/metrics` (never relayed). The first malformed frame of a
 * 10 s window also gets a non-fatal MEDIA_REFUSED error naming what was wrong (the rest of the window is
 * only counted, so a flood does not become an error flood); a session that keeps sending malformed frames
 * is closed with MEDIA_MALFORMED.
 */
import { ConfabError } from './errors.js';
import type { Grant } from './grants.js';
import { decodeMediaFrame, MediaCodec, type MediaFrame } from './media.js';
import type { Metrics } from './metrics.js';
import type { Session } from './session.js';
import { vp8FrameKind } from './vp8.js';

/** What a media plugin accepts. */
export interface MediaInboxOptions {
  /** The grant a sender needs (`publish:video`…); frames from a session without it are dropped. */
  grant: Grant;
  /** Codecs the plugin handles; any other is malformed. */
  codecs: readonly MediaCodec[];
  /** Largest encoded frame (header excluded), in bytes. */
  maxFrameBytes: number;
  /** Malformed frames a session may send within `windowMs` before it is closed. Default 50. */
  maxMalformed?: number;
  /** The window for `maxMalformed`. Default 10 000 ms. */
  windowMs?: number;
  /** The channel named in MEDIA_REFUSED errors, so the client routes them to the plugin. */
  channel?: string;
}

/** Checks one frame from a session: the frame when it may go on, undefined when it was dropped. */
export type MediaInbox = (session: Session, payload: Uint8Array) => MediaFrame | undefined;

interface MalformedCount {
  since: number;
  count: number;
}

/**
 * Creates the checker for one media plugin.
 *
 * @example
 *   const inbox = createMediaInbox(ctx.metrics, { grant: 'publish:video', codecs: [MediaCodec.JPEG], maxFrameBytes: 512 * 1024 });
 *   ctx.channel(VIDEO).onMessage((session, payload) => {
 *     const frame = inbox(session, payload);
 *     if (frame) relay(session, frame);
 *   });
 */
export function createMediaInbox(metrics: Metrics, options: MediaInboxOptions): MediaInbox {
  const codecs: ReadonlySet<number> = new Set(options.codecs);
  const maxMalformed = options.maxMalformed ?? 50;
  const windowMs = options.windowMs ?? 10_000;
  const malformed = new WeakMap<Session, MalformedCount>();

  const refuse = (reason: string) => {
    metrics.add(metrics.mediaRefused, reason);
    return undefined;
  };
  const refuseMalformed = (session: Session, reason: string) => {
    refuse(reason);
    const now = Date.now();
    let count = malformed.get(session);
    if (!count || now - count.since > windowMs) {
      count = { since: now, count: 0 };
      malformed.set(session, count);
    }
    count.count += 1;
    if (count.count === 1) {
      const error = new ConfabError('MEDIA_REFUSED', `a media frame was dropped as malformed (${reason}); see the media header in docs/protocol.md. Further malformed frames within ${windowMs / 1000} s are only counted`);
      if (options.channel !== undefined) error.channel = options.channel;
      session.sendError(error);
    }
    if (count.count > maxMalformed) {
      session.fail(new ConfabError('MEDIA_MALFORMED',
        `${count.count} malformed media frames within ${windowMs / 1000} s (last: ${reason}); see the media header in docs/protocol.md`));
    }
    return undefined;
  };

  return (session, payload) => {
    const decoded = decodeMediaFrame(payload);
    if (!decoded.ok) return refuseMalformed(session, decoded.problem);
    const frame = decoded.frame;
    if (!codecs.has(frame.codec)) return refuseMalformed(session, 'codec-not-accepted');
    if (frame.data.length > options.maxFrameBytes) return refuseMalformed(session, 'too-large');
    if (frame.codec === MediaCodec.VP8) {
      const kind = vp8FrameKind(frame.data);
      if (kind === 'malformed') return refuseMalformed(session, 'vp8-malformed');
      if ((kind === 'keyframe') !== frame.keyframe) return refuseMalformed(session, 'vp8-keyframe-mismatch');
    }
    if (frame.sender !== '' && frame.sender !== session.id) return refuseMalformed(session, 'not-owner');
    if (!session.grants.has(options.grant)) return refuse('no-grant');
    return frame;
  };
}
