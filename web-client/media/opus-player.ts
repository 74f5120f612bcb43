/**
 * Decodes the room's mix, received as Opus, with WebCodecs' `AudioDecoder` and hands each 20 ms of samples
 * to the playback worklet. A decoder error drops the packet and starts a new decoder with the next one.
 */
import type { MediaFrame } from '../../core/media.js';
import { OPUS_DECODER_CONFIG } from './codec-support.js';

/** Plays Opus frames of the mix. */
export class OpusPlayer {
  readonly #play: (pcm: Int16Array) => void;
  #decoder: AudioDecoder | undefined;

  /** `play` gets each decoded frame as 16-bit samples, 48 kHz mono. */
  constructor(play: (pcm: Int16Array) => void) {
    this.#play = play;
  }

  /** Decodes one Opus packet (the bytes are copied). */
  decode(frame: MediaFrame): void {
    const decoder = (this.#decoder ??= this.#create());
    try {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: Math.round(frame.captureMs * 1000), data: frame.data }));
    } catch {
      this.close();
    }
  }

  /** Stops decoding. Idempotent. */
  close(): void {
    if (this.#decoder?.state !== 'closed') this.#decoder?.close();
    this.#decoder = undefined;
  }

  #create(): AudioDecoder {
    const decoder = new AudioDecoder({
      output: (audio) => {
        // f32-planar is the one format every browser must convert to.
        const samples = new Float32Array(audio.numberOfFrames);
        audio.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
        audio.close();
        const pcm = new Int16Array(samples.length);
        for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-0x8000, Math.min(0x7fff, Math.round(samples[i]! * 0x8000)));
        this.#play(pcm);
      },
      error: () => {
        if (this.#decoder === decoder) this.#decoder = undefined;
      },
    });
    decoder.configure(OPUS_DECODER_CONFIG);
    return decoder;
  }
}
