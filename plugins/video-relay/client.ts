/**
 * The video-relay plugin, client half: publish camera frames (VP8 with temporal layers, or JPEG), announce the
 * camera on or off, choose whose video to receive and at which layer, receive the others' frames and camera
 * state, and the two things a publisher hears back: keyframe requests and the bitrate its receivers can take.
 * Used by the web client, the terminal client and bots; no Node-only imports, so it bundles for the browser.
 *
 * Receiving: each sender's stream goes through a MediaStreamReader (core/media-reader.ts), so `frame` only
 * carries frames a decoder can take: nothing of a VP8 stream before its first keyframe, and nothing after a
 * lost base-layer frame until the next keyframe. The half asks the sender for that keyframe by itself (again
 * every KEYFRAME_RETRY_MS while it waits); an app whose decoder fails calls `decodeFailed(sender)`.
 *
 * @example
 *   const video = client.use(videoClient());
 *   video.on('frame', (frame) => show(frame.sender, frame.codec, frame.data)); // frame.data is a view: copy to keep it
 *   video.on('camera', ({ peer, on }) => setTile(peer, on));
 *   video.on('keyframeRequest', () => encoder.forceKeyframe());
 *   video.on('bitrate', ({ bps }) => encoder.setBitrate(bps ?? maxBitrate));
 *   await client.connect();
 *   video.publish(vp8Chunk, { codec: MediaCodec.VP8, keyframe, layer });  // 15–30 times a second
 *   video.subscribe({ layer: 0, layers: { [speakerId]: 2 } });            // speaker view
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { Emitter } from '../../core/client/emitter.js';
import { decodeMediaFrame, MediaCodec, MediaStreamReader, MediaStreamWriter, type KeyframeReason, type MediaFrame, type PublishOptions } from '../../core/wire.js';
import { VIDEO, VIDEO_CONTROL, type VideoSubscription } from './protocol.js';

/** Events of the video client half. */
export type VideoEvents = {
  /**
   * A frame of another participant's camera that a decoder can take; `sender` is its session id, `codec`
   * says how to decode it. `data` is a view: copy it to keep it.
   */
  frame: [MediaFrame];
  /** A participant's camera went on or off (also for those already on when this client joined). */
  camera: [{ peer: string; on: boolean }];
  /** The server asks this client, as a publisher, for a keyframe now. */
  keyframeRequest: [];
  /** What this client's receivers can take, bits per second (null: no limit); keep the encoder at or below it. */
  bitrate: [{ bps: number | null }];
};

/** What a publisher may say about one frame (core/media.ts). */
export type { PublishOptions } from '../../core/wire.js';

/** Options of `videoClient()`. */
export interface VideoClientOptions {
  /**
   * `publish()` drops a frame (and returns false) while more than this many bytes wait to be sent on the
   * connection, so a slow uplink sends the newest frames rather than a growing backlog. Default 512 KiB.
   */
  maxBufferedBytes?: number;
}

/** Counters of what this client received and asked for. */
export interface VideoStats {
  /** Frames handed to `frame` listeners. */
  framesReceived: number;
  /** Frames skipped because their stream waited for a keyframe. */
  framesSkipped: number;
  /** Keyframe requests sent, by reason. */
  keyframeRequests: Record<KeyframeReason, number>;
}

/** What `client.use(videoClient())` returns. */
export interface VideoApi extends Pick<Emitter<VideoEvents>, 'on' | 'off' | 'once'> {
  /**
   * Sends one camera frame to the room. Returns false when it was dropped: not connected, or the connection
   * is backed up (see `maxBufferedBytes`). Announces the camera on first if it is off. A dropped VP8 frame
   * breaks the chain of deltas: ask the encoder for a keyframe next.
   */
  publish(data: Uint8Array, options?: PublishOptions): boolean;
  /** Announces this client's camera on or off to the room. */
  setCamera(on: boolean): void;
  /**
   * Chooses which video to receive: `senders` (session ids; default everyone's), `maxFps` per sender
   * (default every frame), the highest temporal `layer` (default 2, every frame) and `layers` per sender.
   * Replaces the previous choice; `subscribe({})` receives everything again.
   */
  subscribe(subscription?: VideoSubscription): void;
  /** Asks a sender for a keyframe (the half does this itself on join and after a gap). */
  requestKeyframe(sender: string, reason?: KeyframeReason): void;
  /** Tells the half that the decoder failed on a sender's frame: it waits for, and asks for, a keyframe. */
  decodeFailed(sender: string): void;
  /** Whether this client's camera is announced on. */
  readonly camera: boolean;
  /** The other participants' cameras: session id → on. Peers never announced are absent. */
  readonly cameras: ReadonlyMap<string, boolean>;
  /** What was received and asked for so far. */
  readonly stats: Readonly<VideoStats>;
}

/** While a sender's stream waits for a keyframe, the request is repeated this often (the first may be lost). */
export const KEYFRAME_RETRY_MS = 1000;

/** Per sender: its reader and when a keyframe was last asked for. */
interface SenderStream {
  reader: MediaStreamReader;
  askedAt: number;
}

/** Creates the video client half. */
export function videoClient(options: VideoClientOptions = {}): ClientPlugin<VideoApi> {
  const maxBufferedBytes = options.maxBufferedBytes ?? 512 * 1024;
  return {
    name: 'video-relay',
    attach(ctx) {
      const events = new Emitter<VideoEvents>();
      const cameras = new Map<string, boolean>();
      const streams = new Map<string, SenderStream>();
      const stats: VideoStats = { framesReceived: 0, framesSkipped: 0, keyframeRequests: { join: 0, gap: 0, 'decode-error': 0 } };
      let camera = false;
      const writer = new MediaStreamWriter(MediaCodec.JPEG);
      const media = ctx.channel(VIDEO);
      const control = ctx.channel(VIDEO_CONTROL);

      const setPeerCamera = (peer: string, on: boolean) => {
        // About ourselves the server has the last word (a moderator may have turned our camera off).
        if (peer === ctx.client.self?.id) {
          camera = on;
          return;
        }
        if (!on) streams.delete(peer);
        if ((cameras.get(peer) ?? false) === on) return;
        cameras.set(peer, on);
        events.emit('camera', { peer, on });
      };

      const requestKeyframe = (sender: string, reason: KeyframeReason = 'gap') => {
        if (ctx.client.state !== 'open') return;
        stats.keyframeRequests[reason]++;
        control.send({ op: 'keyframe', sender, reason });
      };

      /** Asks for a keyframe for a waiting stream, at most every KEYFRAME_RETRY_MS. */
      const askIfWaiting = (sender: string, stream: SenderStream) => {
        const reason = stream.reader.wantsKeyframe;
        const now = Date.now();
        if (reason === undefined || now - stream.askedAt < KEYFRAME_RETRY_MS) return;
        stream.askedAt = now;
        requestKeyframe(sender, reason);
      };

      media.onMessage((bytes) => {
        const decoded = decodeMediaFrame(bytes);
        if (!decoded.ok) return;
        const frame = decoded.frame;
        let stream = streams.get(frame.sender);
        if (!stream) streams.set(frame.sender, (stream = { reader: new MediaStreamReader(), askedAt: 0 }));
        if (!stream.reader.accept(frame)) {
          stats.framesSkipped++;
          askIfWaiting(frame.sender, stream);
          return;
        }
        stats.framesReceived++;
        events.emit('frame', frame);
      });
      control.onMessage((message) => {
        if (message.op === 'camera') setPeerCamera(message.peer, message.on);
        else if (message.op === 'cameras') for (const peer of message.on) setPeerCamera(peer, true);
        else if (message.op === 'keyframe') events.emit('keyframeRequest');
        else if (message.op === 'bitrate') events.emit('bitrate', { bps: message.bps });
      });
      // A refused "camera on" (no publish:video) leaves the camera off, so the next publish asks again.
      ctx.onError((error) => {
        if (error.code === 'VIDEO_NOT_ALLOWED') camera = false;
      });
      ctx.on('peerLeft', (peer) => {
        setPeerCamera(peer.id, false);
        cameras.delete(peer.id);
      });
      // A new session (the first, or after a rejoin): the peers and their streams of the last one are gone,
      // and the server knows nothing of this client's camera or subscription.
      ctx.on('welcome', () => {
        for (const peer of [...cameras.keys()]) setPeerCamera(peer, false);
        cameras.clear();
        streams.clear();
        camera = false;
      });

      const setCamera = (on: boolean) => {
        camera = on;
        control.send({ op: 'camera', on });
      };

      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get camera() {
          return camera;
        },
        cameras,
        stats,
        setCamera,
        subscribe(subscription: VideoSubscription = {}) {
          control.send({
            op: 'subscribe',
            senders: subscription.senders ?? null,
            maxFps: subscription.maxFps ?? null,
            layer: subscription.layer ?? null,
            layers: subscription.layers ?? null,
          });
        },
        requestKeyframe,
        decodeFailed(sender: string) {
          const stream = streams.get(sender);
          if (!stream) return;
          stream.reader.decodeFailed();
          stream.askedAt = 0;
          askIfWaiting(sender, stream);
        },
        publish(data: Uint8Array, publish: PublishOptions = {}) {
          if (ctx.client.state !== 'open' || ctx.client.bufferedBytes > maxBufferedBytes) return false;
          if (!camera) setCamera(true);
          return media.send(writer.frame(data, publish));
        },
      };
    },
  };
}
