/**
 * Draws received JPEG frames on a canvas. Decoding (createImageBitmap) is asynchronous: while one frame
 * decodes, only the newest next frame is kept, so a slow tab shows fewer frames rather than falling behind.
 */
export class JpegView {
  readonly canvas: HTMLCanvasElement;
  #decoding = false;
  #next: Uint8Array | undefined;
  /** Frames drawn so far. */
  drawn = 0;

  constructor(label: string) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
  }

  /** Shows a JPEG (the bytes are copied). */
  show(jpeg: Uint8Array): void {
    this.#next = jpeg.slice();
    if (!this.#decoding) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#decoding = true;
    while (this.#next) {
      const bytes = this.#next;
      this.#next = undefined;
      try {
        const bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
        if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
          this.canvas.width = bitmap.width;
          this.canvas.height = bitmap.height;
        }
        this.canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
        bitmap.close();
        this.drawn++;
      } catch {
        // A frame that does not decode is skipped; the next one replaces it.
      }
    }
    this.#decoding = false;
  }
}
