/**
 * Decodes received JPEG frames (createImageBitmap). Decoding is asynchronous: while one frame decodes, only
 * the newest next frame is kept, so a slow tab shows fewer frames rather than falling behind.
 */
export class JpegDecoder {
  readonly #onPicture: (bitmap: ImageBitmap) => void;
  #decoding = false;
  #next: Uint8Array | undefined;
  #closed = false;

  /** `onPicture` gets each decoded picture and must not keep it: it is closed when `onPicture` returns. */
  constructor(onPicture: (bitmap: ImageBitmap) => void) {
    this.#onPicture = onPicture;
  }

  /** Decodes a JPEG (the bytes are copied). */
  decode(jpeg: Uint8Array): void {
    this.#next = jpeg.slice();
    if (!this.#decoding) void this.#drain();
  }

  /** Drops what waits; nothing is shown after this. */
  close(): void {
    this.#closed = true;
    this.#next = undefined;
  }

  async #drain(): Promise<void> {
    this.#decoding = true;
    while (this.#next) {
      const bytes = this.#next;
      this.#next = undefined;
      try {
        const bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
        if (!this.#closed) this.#onPicture(bitmap);
        bitmap.close();
      } catch {
        // A frame that does not decode is skipped; the next one replaces it.
      }
    }
    this.#decoding = false;
  }
}
