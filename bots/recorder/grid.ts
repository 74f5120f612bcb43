/**
 * The picture the recorder writes: a grid of the participants' latest camera frames with their names, or the
 * screen share full-frame while one is on. Drawn with `canvas`; handed to ffmpeg as raw BGRA.
 *
 * A tile shows a JPEG (decoded here, as the seeds send them) or a picture a VP8 decoder gave
 * (vp8-decoder.ts). Only the newest of each is kept, and it is turned into something drawable when a grid
 * frame is drawn (not on arrival), so a busy room costs at most one conversion per tile per output frame.
 * A stream this recorder cannot decode shows a placeholder naming the codec, never garbage.
 */
import { createCanvas, Image, type Canvas, type CanvasRenderingContext2D } from 'canvas';
import type { Picture } from './vp8-decoder.js';

/** The newest frame of a tile or the screen, and what was drawn last. */
class Surface {
  #pending: { jpeg: Buffer } | { picture: Picture } | undefined;
  #drawable: Image | Canvas | undefined;
  /** Shown instead of a picture (a codec without a decoder here). */
  notice: string | undefined;

  /** A JPEG to show (a copy is kept). */
  jpeg(jpeg: Uint8Array): void {
    this.#pending = { jpeg: Buffer.from(jpeg) };
    this.notice = undefined;
  }

  /** A decoded picture to show (kept as it is). */
  picture(picture: Picture): void {
    this.#pending = { picture };
    this.notice = undefined;
  }

  /** Forgets the picture. */
  clear(): void {
    this.#pending = this.#drawable = undefined;
  }

  /** What to draw now; converts the newest frame first. `onBad` is called for a JPEG that does not decode. */
  drawable(onBad: () => void): Image | Canvas | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending && 'jpeg' in pending) this.#drawable = decodeJpeg(pending.jpeg) ?? (onBad(), this.#drawable);
    else if (pending) this.#drawable = toCanvas(pending.picture, this.#drawable);
    return this.#drawable;
  }
}

/**
 * Composes grid frames.
 *
 * @example
 *   const grid = new GridCompositor(640, 480);
 *   grid.setParticipant(peer.id, peer.name);
 *   grid.cameraFrame(peer.id, jpeg);
 *   sink.writeVideo(grid.render());
 */
export class GridCompositor {
  /** The picture being drawn (its size is the recording's). */
  readonly canvas: Canvas;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #tiles = new Map<string, { name: string; camera: boolean; surface: Surface }>();
  #screen: { name: string; surface: Surface } | undefined;
  #dirty = true;
  #frame: Buffer | undefined;
  /** JPEGs that failed to decode (kept out of the picture). */
  badFrames = 0;

  constructor(width = 640, height = 480) {
    this.canvas = createCanvas(width, height);
    this.#ctx = this.canvas.getContext('2d');
  }

  /** Adds a participant (or renames one). */
  setParticipant(id: string, name: string): void {
    const tile = this.#tiles.get(id);
    if (tile) tile.name = name;
    else this.#tiles.set(id, { name, camera: false, surface: new Surface() });
    this.#dirty = true;
  }

  /** Removes a participant who left. */
  removeParticipant(id: string): void {
    this.#dirty = this.#tiles.delete(id) || this.#dirty;
  }

  /** A participant's camera went on or off; off clears its picture. */
  setCamera(id: string, on: boolean): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.camera = on;
    if (!on) tile.surface.clear();
    this.#dirty = true;
  }

  /** The newest camera frame of a participant, as a JPEG (a copy is kept). */
  cameraFrame(id: string, jpeg: Uint8Array): void {
    this.#camera(id)?.jpeg(jpeg);
  }

  /** The newest camera picture of a participant, from a decoder. */
  cameraPicture(id: string, picture: Picture): void {
    this.#camera(id)?.picture(picture);
  }

  /** A participant sends video this recorder cannot decode: its tile says so. */
  cameraUndecodable(id: string, codec: string): void {
    const surface = this.#camera(id);
    if (!surface) return;
    surface.clear();
    surface.notice = `${codec} video: no decoder here`;
  }

  /** A screen share started (by `name`) or, with undefined, stopped. */
  setScreen(name: string | undefined): void {
    this.#screen = name === undefined ? undefined : { name, surface: new Surface() };
    this.#dirty = true;
  }

  /** The newest screen frame, as a JPEG. */
  screenFrame(jpeg: Uint8Array): void {
    this.#screen?.surface.jpeg(jpeg);
    this.#dirty = true;
  }

  /** The newest screen picture, from a decoder. */
  screenPicture(picture: Picture): void {
    this.#screen?.surface.picture(picture);
    this.#dirty = true;
  }

  /** The current picture as BGRA bytes (width × height × 4); the same buffer when nothing changed. */
  render(): Buffer {
    if (!this.#dirty && this.#frame) return this.#frame;
    this.#dirty = false;
    const ctx = this.#ctx;
    ctx.fillStyle = '#202124';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.#screen) this.#drawScreen(this.#screen);
    else this.#drawGrid();
    this.#frame = this.canvas.toBuffer('raw');
    return this.#frame;
  }

  #camera(id: string): Surface | undefined {
    const tile = this.#tiles.get(id);
    if (!tile) return undefined;
    tile.camera = true;
    this.#dirty = true;
    return tile.surface;
  }

  #drawScreen(screen: { name: string; surface: Surface }): void {
    const { width, height } = this.canvas;
    const image = screen.surface.drawable(() => this.badFrames++);
    if (image) this.#drawFitted(image, 0, 0, width, height);
    this.#label(`${screen.name} is presenting`, 0, height - 28, width);
  }

  #drawGrid(): void {
    const tiles = [...this.#tiles.values()];
    const { width, height } = this.canvas;
    if (tiles.length === 0) {
      this.#label('waiting for participants', 0, height / 2 - 14, width);
      return;
    }
    const columns = Math.ceil(Math.sqrt(tiles.length));
    const rows = Math.ceil(tiles.length / columns);
    const tileWidth = Math.floor(width / columns);
    const tileHeight = Math.floor(height / rows);
    tiles.forEach((tile, index) => {
      const x = (index % columns) * tileWidth;
      const y = Math.floor(index / columns) * tileHeight;
      const image = tile.surface.drawable(() => this.badFrames++);
      if (tile.camera && image) this.#drawFitted(image, x + 2, y + 2, tileWidth - 4, tileHeight - 4);
      else {
        this.#ctx.fillStyle = '#3c4043';
        this.#ctx.fillRect(x + 2, y + 2, tileWidth - 4, tileHeight - 4);
        if (tile.surface.notice) this.#label(tile.surface.notice, x + 2, y + tileHeight / 2 - 12, tileWidth - 4);
      }
      this.#label(tile.name, x + 2, y + tileHeight - 26, tileWidth - 4);
    });
  }

  #drawFitted(image: Image | Canvas, x: number, y: number, width: number, height: number): void {
    const scale = Math.min(width / image.width, height / image.height);
    const w = image.width * scale;
    const h = image.height * scale;
    this.#ctx.drawImage(image, x + (width - w) / 2, y + (height - h) / 2, w, h);
  }

  #label(text: string, x: number, y: number, width: number): void {
    const ctx = this.#ctx;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(x, y, width, 24);
    ctx.fillStyle = '#ffffff';
    ctx.font = '16px sans-serif';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, x + 6, y + 12, width - 12);
  }
}

/** A JPEG as an Image, or undefined when it does not decode. */
function decodeJpeg(jpeg: Buffer): Image | undefined {
  const image = new Image();
  let failed = false;
  // canvas reports a bad image through onerror (or a throw, depending on the build), never by crashing.
  image.onerror = () => (failed = true);
  try {
    image.src = jpeg;
  } catch {
    failed = true;
  }
  return failed || image.width === 0 ? undefined : image;
}

/** A decoded picture on a canvas of its size (the previous one reused when the size is the same). */
function toCanvas(picture: Picture, previous: Image | Canvas | undefined): Canvas {
  const canvas = previous instanceof Image || previous === undefined || previous.width !== picture.width || previous.height !== picture.height
    ? createCanvas(picture.width, picture.height)
    : previous;
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(picture.width, picture.height);
  data.data.set(picture.rgba);
  ctx.putImageData(data, 0, 0);
  return canvas;
}
