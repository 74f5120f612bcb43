/**
 * The picture the recorder writes: a grid of the participants' latest camera frames with their names, or the
 * screen share full-frame while one is on. Drawn with `canvas`; handed to ffmpeg as raw BGRA.
 *
 * Only the newest JPEG of each participant is kept, and it is decoded when a grid frame is drawn (not on
 * arrival), so a busy room costs at most one decode per tile per output frame.
 */
import { createCanvas, Image, type Canvas, type CanvasRenderingContext2D } from 'canvas';

/** One participant's tile. */
interface Tile {
  name: string;
  camera: boolean;
  /** The newest JPEG, not yet decoded. */
  jpeg: Buffer | undefined;
  /** The last decoded picture. */
  image: Image | undefined;
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
  readonly canvas: Canvas;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #tiles = new Map<string, Tile>();
  #screen: { name: string; jpeg: Buffer | undefined; image: Image | undefined } | undefined;
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
    else this.#tiles.set(id, { name, camera: false, jpeg: undefined, image: undefined });
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
    if (!on) tile.jpeg = tile.image = undefined;
    this.#dirty = true;
  }

  /** The newest camera frame of a participant (a copy is kept). */
  cameraFrame(id: string, jpeg: Uint8Array): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.camera = true;
    tile.jpeg = Buffer.from(jpeg);
    this.#dirty = true;
  }

  /** A screen share started (by `name`) or, with undefined, stopped. */
  setScreen(name: string | undefined): void {
    this.#screen = name === undefined ? undefined : { name, jpeg: undefined, image: undefined };
    this.#dirty = true;
  }

  /** The newest screen frame. */
  screenFrame(jpeg: Uint8Array): void {
    if (!this.#screen) return;
    this.#screen.jpeg = Buffer.from(jpeg);
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

  #drawScreen(screen: { name: string; jpeg: Buffer | undefined; image: Image | undefined }): void {
    screen.image = this.#decode(screen.jpeg) ?? screen.image;
    screen.jpeg = undefined;
    const { width, height } = this.canvas;
    if (screen.image) this.#drawFitted(screen.image, 0, 0, width, height);
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
      tile.image = this.#decode(tile.jpeg) ?? tile.image;
      tile.jpeg = undefined;
      if (tile.camera && tile.image) this.#drawFitted(tile.image, x + 2, y + 2, tileWidth - 4, tileHeight - 4);
      else {
        this.#ctx.fillStyle = '#3c4043';
        this.#ctx.fillRect(x + 2, y + 2, tileWidth - 4, tileHeight - 4);
      }
      this.#label(tile.name, x + 2, y + tileHeight - 26, tileWidth - 4);
    });
  }

  #decode(jpeg: Buffer | undefined): Image | undefined {
    if (!jpeg) return undefined;
    const image = new Image();
    let failed = false;
    // canvas reports a bad image through onerror (or a throw, depending on the build), never by crashing.
    image.onerror = () => (failed = true);
    try {
      image.src = jpeg;
    } catch {
      failed = true;
    }
    if (failed || image.width === 0) {
      this.badFrames++;
      return undefined;
    }
    return image;
  }

  #drawFitted(image: Image, x: number, y: number, width: number, height: number): void {
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
