/**
 * Frames a bot draws itself with `canvas`: a test card with colour bars, the bot's name, a wall clock and a
 * frame counter, so that a viewer (and a test) sees at a glance who sends, that it moves, and the delay.
 */
import { createCanvas, type Canvas, type CanvasRenderingContext2D } from 'canvas';

/** Options of a test card. */
export interface TestCardOptions {
  /** The name written in the middle. */
  name: string;
  /** Default 640. */
  width?: number;
  /** Default 480. */
  height?: number;
  /** JPEG quality 0–1; default 0.7. */
  quality?: number;
}

const BARS = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];

/**
 * A test card that draws one frame per call.
 *
 * @example
 *   const card = new TestCard({ name: 'quiz-bot' });
 *   video.publish(card.jpeg(), { captureMs: Date.now(), keyframe: true });
 */
export class TestCard {
  readonly canvas: Canvas;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #options: Required<TestCardOptions>;
  /** Frames drawn so far. */
  frames = 0;

  constructor(options: TestCardOptions) {
    this.#options = { width: 640, height: 480, quality: 0.7, ...options };
    this.canvas = createCanvas(this.#options.width, this.#options.height);
    this.#ctx = this.canvas.getContext('2d');
  }

  /** Draws the next frame (at `now`, default the current time) and returns it as a JPEG. */
  jpeg(now = Date.now()): Buffer {
    this.draw(now);
    return this.canvas.toBuffer('image/jpeg', { quality: this.#options.quality });
  }

  /** Draws the next frame on `canvas`. */
  draw(now = Date.now()): void {
    const { width, height, name } = this.#options;
    const ctx = this.#ctx;
    const barWidth = width / BARS.length;
    BARS.forEach((colour, i) => {
      ctx.fillStyle = colour;
      ctx.fillRect(Math.floor(i * barWidth), 0, Math.ceil(barWidth), height);
    });
    // A square that moves one step per frame shows motion even in a still.
    ctx.fillStyle = '#ffffff';
    const size = Math.round(height / 12);
    ctx.fillRect((this.frames * 8) % Math.max(1, width - size), height - size * 2, size, size);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.75)';
    ctx.fillRect(0, height * 0.3, width, height * 0.4);
    ctx.fillStyle = '#ffffff';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.font = `bold ${Math.round(height / 10)}px sans-serif`;
    ctx.fillText(name, width / 2, height * 0.42, width * 0.9);
    ctx.font = `${Math.round(height / 16)}px monospace`;
    const clock = new Date(now).toISOString().slice(11, 23);
    ctx.fillText(`${clock}  #${this.frames}`, width / 2, height * 0.58, width * 0.9);
    this.frames++;
  }
}
