/**
 * Publishes the microphone's 20 ms frames (from the capture worklet) with the audio-mix client half: as Opus
 * made by WebCodecs' `AudioEncoder` (`publishEncoded`) where the browser has it and the server takes Opus,
 * else as PCM (`publish`), and as PCM for the rest of the call if the encoder fails.
 */
import type { AudioApi } from '../../plugins/audio-mix/client.js';
import { opusEncoderConfig } from './codec-support.js';

/** Sends microphone frames until `close()`. */
export class MicPublisher {
  readonly #audio: AudioApi;
  #encoder: AudioEncoder | undefined;

  /** With `opus` (this browser encodes Opus) at `bitrate` bits per second, else PCM. */
  constructor(audio: AudioApi, opus: boolean, bitrate: number) {
    this.#audio = audio;
    if (!opus) return;
    const encoder = new AudioEncoder({
      output: (chunk) => {
        const packet = new Uint8Array(chunk.byteLength);
        chunk.copyTo(packet);
        audio.publishEncoded(packet, 'opus', { captureMs: chunk.timestamp / 1000 });
      },
      error: () => {
        if (this.#encoder === encoder) this.#encoder = undefined;
      },
    });
    encoder.configure(opusEncoderConfig(bitrate));
    this.#encoder = encoder;
  }

  /** Sends one frame of 960 samples (48 kHz mono), captured at `captureMs` (ms since the epoch). */
  send(pcm: Int16Array<ArrayBuffer>, captureMs: number): void {
    const encoder = this.#encoder;
    if (!encoder || !this.#opusAccepted()) {
      this.#audio.publish(pcm, { captureMs });
      return;
    }
    const data = new AudioData({ format: 's16', sampleRate: 48_000, numberOfChannels: 1, numberOfFrames: pcm.length, timestamp: Math.round(captureMs * 1000), data: pcm });
    encoder.encode(data);
    data.close();
  }

  /** Stops the encoder. Idempotent. */
  close(): void {
    if (this.#encoder?.state !== 'closed') this.#encoder?.close();
    this.#encoder = undefined;
  }

  /** The encoder works and the server takes Opus (before its announcement, it is assumed to). */
  #opusAccepted(): boolean {
    return this.#encoder !== undefined && (this.#audio.serverCodecs ?? ['opus']).includes('opus');
  }
}
