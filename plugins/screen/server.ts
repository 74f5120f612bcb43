/**
 * The screen plugin, server half: one presenter per room at a time (a second gets SCREEN_BUSY), start and
 * stop announced to the room, the presenter's frames relayed to the others, and the latest keyframe kept so
 * a late joiner sees the screen at once. The share ends when the presenter stops it, leaves, or loses the
 * publish:screen grant (a moderator's stop-screen).
 */
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { createMediaInbox } from '../../core/media-inbox.js';
import { MediaCodec, withSender } from '../../core/media.js';
import { readOptions } from '../../core/options.js';
import type { Plugin, Room, Session } from '../../core/index.js';
import { MAX_REF_LENGTH, SCREEN_CHANNEL, SCREEN_CONTROL_CHANNEL, SCREEN_ERRORS, type StopReason } from './protocol.js';

/** Options of the screen plugin. */
export interface ScreenOptions {
  /** Largest encoded frame (header excluded), in bytes; a larger one is dropped as malformed. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Malformed frames a session may send within 10 s before it is closed with MEDIA_MALFORMED. Default 50. */
  maxMalformed?: number;
}

/** Per room: who presents, and the latest keyframe of the share (already with the presenter's id). */
interface ShareState {
  presenter: Session | undefined;
  lastKeyframe: Uint8Array | undefined;
}

type ScreenErrorCode = keyof typeof SCREEN_ERRORS;

/**
 * Creates the screen plugin.
 *
 * @example
 *   defineConfig({ plugins: [screen({ maxFrameBytes: 2 * 1024 * 1024 })] });
 */
export function screen(options: ScreenOptions = {}): Plugin {
  const { maxFrameBytes, maxMalformed } = readOptions('screen', options, {
    maxFrameBytes: { type: 'integer', min: 1024, max: 16 * 1024 * 1024, default: 4 * 1024 * 1024 },
    maxMalformed: { type: 'integer', min: 1, max: 1_000_000, default: 50 },
  });

  return definePlugin({
    name: 'screen',
    channels: {
      [SCREEN_CHANNEL]: { kind: 'media' },
      [SCREEN_CONTROL_CHANNEL]: { kind: 'json', maxPayload: 4096 },
    },
    setup(ctx) {
      const frames = ctx.channel(SCREEN_CHANNEL);
      const control = ctx.channel(SCREEN_CONTROL_CHANNEL);
      const shares = ctx.perRoom((): ShareState => ({ presenter: undefined, lastKeyframe: undefined }));
      const inbox = createMediaInbox(ctx.metrics, {
        grant: 'publish:screen',
        codecs: [MediaCodec.JPEG, MediaCodec.VP8, MediaCodec.H264],
        maxFrameBytes,
        maxMalformed,
      });
      const subscribed = (session: Session) => session.grants.has('subscribe');

      const endShare = (room: Room, reason: StopReason) => {
        const share = shares.get(room);
        const presenter = share.presenter;
        if (!presenter) return;
        share.presenter = undefined;
        share.lastKeyframe = undefined;
        if (room.size > 0) control.broadcast(room, { op: 'stopped', presenter: presenter.info, reason });
      };

      frames.onMessage((session, payload) => {
        const frame = inbox(session, payload as Uint8Array);
        if (!frame) return;
        const share = shares.get(session.room);
        if (share.presenter !== session) {
          ctx.metrics.add(ctx.metrics.mediaRefused, 'not-presenter');
          return;
        }
        const relayed = withSender(frame, session.id);
        if (frame.keyframe) share.lastKeyframe = relayed;
        frames.broadcast(session.room, relayed, {
          except: session,
          filter: subscribed,
          media: { stream: `screen:${session.id}`, keyframe: frame.keyframe },
        });
      });

      control.onMessage((session, message) => {
        const request = message as JsonObject;
        const ref = typeof request.ref === 'string' && request.ref.length <= MAX_REF_LENGTH ? request.ref : undefined;
        const refuse = (code: ScreenErrorCode, text?: string) => {
          const error = new ConfabError(code, text ?? SCREEN_ERRORS[code], { fatal: false });
          if (ref !== undefined) error.ref = ref;
          return error;
        };
        const share = shares.get(session.room);
        if (request.op === 'start') {
          if (!session.grants.has('publish:screen')) throw refuse('SCREEN_NOT_ALLOWED');
          if (share.presenter === session) return control.send(session, { op: 'started', presenter: session.info });
          if (share.presenter) {
            throw refuse('SCREEN_BUSY', `${share.presenter.name} is presenting in this room; wait until they stop`);
          }
          share.presenter = session;
          share.lastKeyframe = undefined;
          return control.broadcast(session.room, { op: 'started', presenter: session.info });
        }
        if (request.op === 'stop') {
          if (share.presenter !== session) throw refuse('SCREEN_NOT_PRESENTER');
          return endShare(session.room, 'stopped');
        }
        throw refuse('SCREEN_BAD_REQUEST');
      });

      ctx.hooks.sessionJoined.tap('screen', (session, room) => {
        const share = shares.get(room);
        if (!share.presenter) return;
        control.send(session, { op: 'started', presenter: share.presenter.info });
        if (share.lastKeyframe && subscribed(session)) {
          frames.send(session, share.lastKeyframe, { stream: `screen:${share.presenter.id}`, keyframe: true });
        }
      });

      // A presenter that loses publish:screen (a moderator stopped it) no longer presents, for everyone.
      ctx.hooks.grantsChanged.tap('screen', (session, removed) => {
        if (removed.includes('publish:screen') && shares.get(session.room).presenter === session) endShare(session.room, 'revoked');
      });

      ctx.hooks.sessionLeft.tap('screen', (session, room) => {
        if (shares.get(room).presenter === session) endShare(room, 'left');
      });
    },
  });
}
