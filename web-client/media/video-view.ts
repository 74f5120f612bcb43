/**
 * The picture of one remote stream (a participant's camera, the shared screen) on a canvas: JPEG frames
 * through jpeg-decoder.ts, VP8 through vp8-decoder.ts where the browser can decode it. A frame of a codec
 * this browser cannot decode hides the canvas and shows a placeholder saying so, never garbage.
 */
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import { h } from '../dom.js';
import type { CodecSupport } from './codec-support.js';
import type { Picture } from './canvas-grabber.js';
import { JpegDecoder } from './jpeg-decoder.js';
import { Vp8Decoder } from './vp8-decoder.js';

/** Codec ids → the name shown in the placeholder. */
const CODEC_NAMES: Record<number, string> = { [MediaCodec.JPEG]: 'JPEG', [MediaCodec.VP8]: 'VP8', [MediaCodec.H264]: 'H.264' };

/** One remote stream's canvas and placeholder; put both in the page. */
export class VideoView {
  /** The picture (`data-codec` says what it was decoded from: `jpeg`, `vp8`, or `local`). */
  readonly canvas: HTMLCanvasElement;
  /** Shown instead of the canvas while the stream's codec cannot be decoded here. */
  readonly placeholder: HTMLElement;
  readonly #support: CodecSupport;
  readonly #onDecodeError: () => void;
  #jpeg: JpegDecoder | undefined;
  #vp8: Vp8Decoder | undefined;

  /** `label` names the picture for screen readers; `onDecodeError` runs when the VP8 decoder failed. */
  constructor(label: string, support: CodecSupport, onDecodeError: () => void) {
    this.#support = support;
    this.#onDecodeError = onDecodeError;
    this.canvas = h('canvas', { role: 'img', 'aria-label': label });
    this.placeholder = h('p', { class: 'video-placeholder', hidden: true });
  }

  /** Whether this browser decodes `codec`. */
  decodes(codec: MediaCodec): boolean {
    return codec === MediaCodec.JPEG || (codec === MediaCodec.VP8 && this.#support.vp8Decoder);
  }

  /** Shows a received frame (its bytes are copied), or the placeholder when its codec cannot be decoded here. */
  show(frame: MediaFrame): void {
    if (!this.decodes(frame.codec)) {
      this.#unsupported(frame.codec);
      return;
    }
    this.placeholder.hidden = true;
    this.canvas.hidden = false;
    if (frame.codec === MediaCodec.JPEG) {
      this.#jpeg ??= new JpegDecoder((bitmap) => this.#draw(bitmap, bitmap.width, bitmap.height, 'jpeg'));
      this.#jpeg.decode(frame.data);
    } else {
      this.#vp8 ??= new Vp8Decoder((picture) => this.#draw(picture, picture.displayWidth, picture.displayHeight, 'vp8'), this.#onDecodeError);
      this.#vp8.decode(frame);
    }
  }

  /** Shows a picture made here (the presenter's own screen, as sent). */
  showPicture(picture: Picture): void {
    // Not `instanceof VideoFrame`: a browser without WebCodecs has no such class (and then draws canvases only).
    const [width, height] = 'displayWidth' in picture ? [picture.displayWidth, picture.displayHeight] : [picture.width, picture.height];
    if (width > 0 && height > 0) this.#draw(picture, width, height, 'local');
  }

  /** Stops the decoders. */
  close(): void {
    this.#jpeg?.close();
    this.#jpeg = undefined;
    this.#vp8?.close();
    this.#vp8 = undefined;
  }

  #unsupported(codec: MediaCodec): void {
    this.close();
    this.canvas.hidden = true;
    this.placeholder.hidden = false;
    this.placeholder.textContent = `Video format not supported by this browser (${CODEC_NAMES[codec] ?? `codec ${codec}`})`;
  }

  #draw(picture: CanvasImageSource, width: number, height: number, source: string): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.canvas.getContext('2d')!.drawImage(picture, 0, 0, width, height);
    this.canvas.dataset.codec = source;
  }
}
