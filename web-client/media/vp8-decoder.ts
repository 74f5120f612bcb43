/**
 * Decodes one sender's VP8 stream with WebCodecs' `VideoDecoder`. The client half only hands on frames a
 * decoder can take (from a keyframe on, nothing after a lost base-layer frame), so a decoder error means
 * something else went wrong: the decoder is reset, waits for a keyframe, and `onError` tells the caller,
 * which asks the sender for one (`video.decodeFailed(sender)`).
 */
import type { MediaFrame } from '../../core/media.js';
import { VP8_DECODER_CONFIG } from './codec-support.js';

/** One sender's VP8 decoder. */
export class Vp8Decoder {
  readonly #onPicture: (frame: VideoFrame) => void;
  readonly #onError: () => void;
  #decoder: VideoDecoder | undefined;
  /** A fresh (or reset) decoder takes a keyframe first. */
  #needsKeyframe = true;

  /** `onPicture` gets each decoded frame and must not keep it: it is closed when `onPicture` returns. */
  constructor(onPicture: (frame: VideoFrame) => void, onError: () => void) {
    this.#onPicture = onPicture;
    this.#onError = onError;
  }

  /** Decodes one frame (the bytes are copied); deltas before the first keyframe are skipped. */
  decode(frame: MediaFrame): void {
    if (this.#needsKeyframe && !frame.keyframe) return;
    const decoder = (this.#decoder ??= this.#create());
    try {
      decoder.decode(new EncodedVideoChunk({ type: frame.keyframe ? 'key' : 'delta', timestamp: Math.round(frame.captureMs * 1000), data: frame.data }));
      this.#needsKeyframe = false;
    } catch {
      this.#failed();
    }
  }

  /** Stops decoding. Idempotent. */
  close(): void {
    if (this.#decoder?.state !== 'closed') this.#decoder?.close();
    this.#decoder = undefined;
  }

  #create(): VideoDecoder {
    const decoder = new VideoDecoder({
      output: (picture) => {
        try {
          this.#onPicture(picture);
        } finally {
          picture.close();
        }
      },
      error: () => {
        if (this.#decoder === decoder) this.#failed();
      },
    });
    decoder.configure(VP8_DECODER_CONFIG);
    return decoder;
  }

  #failed(): void {
    this.close();
    this.#needsKeyframe = true;
    this.#onError();
  }
}
