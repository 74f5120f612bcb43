/**
 * The video-relay plugin, client half: publish camera frames, announce the camera on or off, choose whose
 * video to receive and at what rate, and receive the others' frames and camera state. Used by the web
 * client, the terminal client and bots; no Node-only imports, so it bundles for the browser.
 *
 * @example
 *   const video = client.use(videoClient());
 *   video.on('frame', (frame) => show(frame.sender, frame.data));   // frame.data is a view: copy to keep it
 *   video.on('camera', ({ peer, on }) => setTile(peer, on));
 *   await client.connect();
 *   video.setCamera(true);
 *   video.publish(jpegBytes);                                       // 15 times a second
 *   video.subscribe({ senders: [speakerId], maxFps: 15 });          // only the speaker
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { decodeMediaFrame, MediaCodec, MediaStreamWriter, type MediaFrame, type PublishOptions } from '../../core/media.js';
import { VIDEO_CHANNEL, VIDEO_CONTROL_CHANNEL, type VideoControlMessage, type VideoSubscription } from './protocol.js';

/** Events of the video client half. */
export type VideoEvents = {
  /** A frame of another participant's camera; `sender` is its session id. `data` is a view: copy it to keep it. */
  frame: [MediaFrame];
  /** A participant's camera went on or off (also for those already on when this client joined). */
  camera: [{ peer: string; on: boolean }];
};

/** Options of `video.publish()`. */
/** What a publisher may say about one frame (core/media.ts). */
export type { PublishOptions } from '../../core/media.js';

/** Options of `videoClient()`. */
export interface VideoClientOptions {
  /**
   * `publish()` drops a frame (and returns false) while more than this many bytes wait to be sent on the
   * connection, so a slow uplink sends the newest frames rather than a growing backlog. Default 512 KiB.
   */
  maxBufferedBytes?: number;
}

/** What `client.use(videoClient())` returns. */
export interface VideoApi extends Pick<Emitter<VideoEvents>, 'on' | 'off' | 'once'> {
  /**
   * Sends one camera frame to the room. Returns false when it was dropped: not connected, or the connection
   * is backed up (see `maxBufferedBytes`). Announces the camera on first if it is off.
   */
  publish(data: Uint8Array, options?: PublishOptions): boolean;
  /** Announces this client's camera on or off to the room. */
  setCamera(on: boolean): void;
  /**
   * Chooses which video to receive: `senders` (session ids; default everyone's) and `maxFps` per sender
   * (default every frame). Replaces the previous choice; `subscribe({})` receives everything again.
   */
  subscribe(subscription?: VideoSubscription): void;
  /** Whether this client's camera is announced on. */
  readonly camera: boolean;
  /** The other participants' cameras: session id → on. Peers never announced are absent. */
  readonly cameras: ReadonlyMap<string, boolean>;
}

/** Creates the video client half. */
export function videoClient(options: VideoClientOptions = {}): ClientPlugin<VideoApi> {
  const maxBufferedBytes = options.maxBufferedBytes ?? 512 * 1024;
  return {
    name: 'video-relay',
    attach(ctx) {
      const events = new Emitter<VideoEvents>();
      const cameras = new Map<string, boolean>();
      let camera = false;
      const stream = new MediaStreamWriter(MediaCodec.JPEG);

      const setPeerCamera = (peer: string, on: boolean) => {
        // About ourselves the server has the last word (a moderator may have turned our camera off).
        if (peer === ctx.client.self?.id) {
          camera = on;
          return;
        }
        if ((cameras.get(peer) ?? false) === on) return;
        cameras.set(peer, on);
        events.emit('camera', { peer, on });
      };

      ctx.onMessage(VIDEO_CHANNEL, (bytes) => {
        const decoded = decodeMediaFrame(bytes as Uint8Array);
        if (decoded.ok) events.emit('frame', decoded.frame);
      });
      ctx.onMessage(VIDEO_CONTROL_CHANNEL, (raw) => {
        const message = raw as unknown as VideoControlMessage;
        if (message.op === 'camera') setPeerCamera(message.peer, message.on);
        else if (message.op === 'cameras') for (const peer of message.on) setPeerCamera(peer, true);
      });
      // A refused "camera on" (no publish:video) leaves the camera off, so the next publish asks again.
      ctx.onError((error) => {
        if (error.code === 'VIDEO_NOT_ALLOWED') camera = false;
      });
      ctx.on('peerLeft', (peer) => {
        setPeerCamera(peer.id, false);
        cameras.delete(peer.id);
      });

      const setCamera = (on: boolean) => {
        camera = on;
        ctx.send(VIDEO_CONTROL_CHANNEL, { op: 'camera', on });
      };

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get camera() {
          return camera;
        },
        cameras,
        setCamera,
        subscribe(subscription: VideoSubscription = {}) {
          ctx.send(VIDEO_CONTROL_CHANNEL, { op: 'subscribe', senders: subscription.senders ?? null, maxFps: subscription.maxFps ?? null });
        },
        publish(data: Uint8Array, publish: PublishOptions = {}) {
          if (ctx.client.state !== 'open' || ctx.client.bufferedBytes > maxBufferedBytes) return false;
          if (!camera) setCamera(true);
          return ctx.send(VIDEO_CHANNEL, stream.frame(data, publish));
        },
      };
    },
  };
}
