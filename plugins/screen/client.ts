/**
 * The screen plugin, client half: start and stop sharing this client's screen, publish its frames, and
 * follow the room's share (who presents, and the frames). No Node-only imports: it bundles for the browser.
 *
 * @example
 *   const screen = client.use(screenClient());
 *   screen.on('started', ({ presenter }) => console.log(`${presenter.name} presents`));
 *   screen.on('frame', (frame) => draw(frame.data));          // frame.data is a view: copy to keep it
 *   await client.connect();
 *   try {
 *     await screen.start();                                   // rejects with SCREEN_BUSY if someone presents
 *     screen.publish(jpegBytes);
 *   } catch (error) { console.log(error.code); }
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { replyOf } from '../../core/client/requests.js';
import { decodeMediaFrame, MediaCodec, MediaStreamReader, MediaStreamWriter, type KeyframeReason, type MediaFrame, type PublishOptions } from '../../core/wire.js';
import { SCREEN, SCREEN_CONTROL, type Presenter, type StopReason } from './protocol.js';

/** Events of the screen client half. */
export type ScreenEvents = {
  /** Someone (maybe this client) started presenting; also on join when a share is in progress. */
  started: [{ presenter: Presenter }];
  /** The share ended: the presenter stopped it or left. */
  stopped: [{ presenter: Presenter; reason: StopReason }];
  /**
   * A frame of the presenter's screen that a decoder can take (for VP8: from a keyframe on, nothing after a
   * lost base-layer frame until the next keyframe). `data` is a view: copy it to keep it.
   */
  frame: [MediaFrame];
  /** The server asks this client, as the presenter, for a keyframe now. */
  keyframeRequest: [];
  /** What the receivers can take, bits per second (null: no limit); keep the encoder at or below it. */
  bitrate: [{ bps: number | null }];
};

/** Options of `screen.publish()`. */
/** What a presenter may say about one frame (core/media.ts). */
export type ScreenPublishOptions = PublishOptions;

/** Options of `screenClient()`. */
export interface ScreenClientOptions {
  /** `publish()` drops a frame (returns false) while more than this many bytes wait on the connection. Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** What `client.use(screenClient())` returns. */
export interface ScreenApi extends Pick<Emitter<ScreenEvents>, 'on' | 'off' | 'once'> {
  /**
   * Takes the room's presenter slot. Resolves once the server announced this client as presenter; rejects
   * with the server's ConfabError: SCREEN_BUSY (someone else presents), SCREEN_NOT_ALLOWED (no publish:screen).
   */
  start(): Promise<void>;
  /** Ends this client's share (nothing happens when it is not presenting). */
  stop(): void;
  /**
   * Sends one screen frame. Returns false when it was dropped: not the presenter, not connected, or the
   * connection is backed up.
   */
  publish(data: Uint8Array, options?: ScreenPublishOptions): boolean;
  /** Asks for a keyframe of the share (the half does this itself on join and after a gap). */
  requestKeyframe(reason?: KeyframeReason): void;
  /** Tells the half that the decoder failed on a frame: it waits for, and asks for, a keyframe. */
  decodeFailed(): void;
  /** Who presents in the room now, if anyone. */
  readonly presenter: Presenter | undefined;
}

/** While the share waits for a keyframe, the request is repeated this often (the first may be lost). */
export const SCREEN_KEYFRAME_RETRY_MS = 1000;

/** Creates the screen client half. */
export function screenClient(options: ScreenClientOptions = {}): ClientPlugin<ScreenApi> {
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  return {
    name: 'screen',
    attach(ctx) {
      const events = new Emitter<ScreenEvents>();
      let presenter: Presenter | undefined;
      const stream = new MediaStreamWriter(MediaCodec.JPEG);
      const media = ctx.channel(SCREEN);
      const control = ctx.channel(SCREEN_CONTROL);
      const isSelf = (who: Presenter | undefined) => who !== undefined && who.id === ctx.client.self?.id;
      /** The share being received (a new one per share), and when a keyframe was last asked for. */
      let reader = new MediaStreamReader();
      let askedAt = 0;

      const requestKeyframe = (reason: KeyframeReason = 'gap') => {
        if (ctx.client.state === 'open') control.send({ op: 'keyframe', reason });
      };
      const askIfWaiting = () => {
        const reason = reader.wantsKeyframe;
        const now = Date.now();
        if (reason === undefined || now - askedAt < SCREEN_KEYFRAME_RETRY_MS) return;
        askedAt = now;
        requestKeyframe(reason);
      };

      media.onMessage((bytes) => {
        const decoded = decodeMediaFrame(bytes);
        if (!decoded.ok) return;
        if (reader.accept(decoded.frame)) events.emit('frame', decoded.frame);
        else askIfWaiting();
      });
      /** Someone (maybe this client) presents now. */
      const started = (who: Presenter) => {
        if (presenter?.id !== who.id) {
          reader = new MediaStreamReader();
          askedAt = 0;
        }
        presenter = who;
        events.emit('started', { presenter: who });
      };
      control.onMessage((message) => {
        if (message.op === 'keyframe') return events.emit('keyframeRequest');
        if (message.op === 'bitrate') return events.emit('bitrate', { bps: message.bps });
        if (message.op === 'started') return started(message.presenter);
        if (presenter?.id === message.presenter.id) presenter = undefined;
        events.emit('stopped', { presenter: message.presenter, reason: message.reason });
      });
      // A new session (after a rejoin): the server tells who presents again, and the share starts over.
      ctx.on('welcome', () => {
        presenter = undefined;
        reader = new MediaStreamReader();
        askedAt = 0;
      });
      ctx.on('close', () => {
        presenter = undefined;
      });

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get presenter() {
          return presenter;
        },
        async start() {
          started(replyOf(await control.request({ op: 'start' }), 'started').presenter);
        },
        stop() {
          if (isSelf(presenter)) control.send({ op: 'stop' });
        },
        publish(data: Uint8Array, publish: ScreenPublishOptions = {}) {
          if (!isSelf(presenter) || ctx.client.state !== 'open' || ctx.client.bufferedBytes > maxBufferedBytes) return false;
          return media.send(stream.frame(data, publish));
        },
        requestKeyframe,
        decodeFailed() {
          reader.decodeFailed();
          askedAt = 0;
          askIfWaiting();
        },
      };
    },
  };
}
