/**
 * What this browser can encode and decode with WebCodecs, asked once with `isConfigSupported`. A browser
 * without WebCodecs, or without a codec, sends JPEG and PCM, asks for the mix as PCM, and shows a placeholder
 * for a VP8 sender it cannot decode.
 */
import type { MediaConfig } from '../api.js';

/** The codecs this browser handles with WebCodecs. */
export interface CodecSupport {
  /** `VideoEncoder` takes VP8 with three temporal layers (camera and screen send VP8). */
  vp8Encoder: boolean;
  /** `VideoDecoder` takes VP8 (tiles and the screen stage decode it). */
  vp8Decoder: boolean;
  /** `AudioEncoder` makes 20 ms Opus packets (the microphone sends Opus). */
  opusEncoder: boolean;
  /** `AudioDecoder` takes Opus (the mix is asked for as Opus). */
  opusDecoder: boolean;
}

/** The Opus settings the microphone and the mix use: 48 kHz mono, 20 ms packets. */
export function opusEncoderConfig(bitrate: number): AudioEncoderConfig {
  return { codec: 'opus', sampleRate: 48_000, numberOfChannels: 1, bitrate, opus: { frameDuration: 20_000 } };
}

/** The Opus decoder's settings (the server mixes 48 kHz mono). */
export const OPUS_DECODER_CONFIG: AudioDecoderConfig = { codec: 'opus', sampleRate: 48_000, numberOfChannels: 1 };

/** The VP8 decoder's settings (the size comes with each keyframe). */
export const VP8_DECODER_CONFIG: VideoDecoderConfig = { codec: 'vp8' };

/** Asks the browser what it supports; never rejects (anything that throws counts as unsupported). */
export async function detectCodecSupport(media: MediaConfig): Promise<CodecSupport> {
  const ask = async (check: () => Promise<{ supported?: boolean }> | undefined) => {
    try {
      return (await check())?.supported === true;
    } catch {
      return false;
    }
  };
  const [vp8Encoder, vp8Decoder, opusEncoder, opusDecoder] = await Promise.all([
    ask(() => globalThis.VideoEncoder?.isConfigSupported({
      codec: 'vp8', width: 640, height: 480, bitrate: media.video.bitrate, framerate: 15, latencyMode: 'realtime', scalabilityMode: 'L1T3',
    })),
    ask(() => globalThis.VideoDecoder?.isConfigSupported(VP8_DECODER_CONFIG)),
    ask(() => globalThis.AudioEncoder?.isConfigSupported(opusEncoderConfig(media.audio.bitrate))),
    ask(() => globalThis.AudioDecoder?.isConfigSupported(OPUS_DECODER_CONFIG)),
  ]);
  return { vp8Encoder, vp8Decoder, opusEncoder, opusDecoder };
}
