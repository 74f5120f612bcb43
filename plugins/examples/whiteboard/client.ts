/**
 * The whiteboard plugin, client half: draw strokes, clear the board, and keep the room's drawing (the
 * strokes sent on join, then every new stroke in the server's order).
 *
 * @example
 *   const board = client.use(whiteboardClient());
 *   board.on('stroke', (stroke) => paint(stroke));
 *   board.on('clear', () => wipe());
 *   await client.connect();
 *   board.draw([0.1, 0.1, 0.5, 0.5], { color: '#ff0000', width: 4 });
 */
import type { ConfabError } from '../../../core/wire.js';
import type { ClientPlugin } from '../../../core/client/types.js';
import { Emitter } from '../../../core/client/emitter.js';
import { WHITEBOARD, type Stroke } from './protocol.js';

/** Events of the whiteboard client half. */
export type WhiteboardEvents = {
  /** A stroke was drawn (by anyone, this client included, once the server relayed it). */
  stroke: [Stroke];
  /** Someone cleared the board. */
  clear: [{ id: string; name: string }];
  /** The room's drawing, sent on join. */
  drawing: [Stroke[]];
  /** The server refused a request of this client. */
  error: [ConfabError];
};

/** What `client.use(whiteboardClient())` returns. */
export interface WhiteboardApi extends Pick<Emitter<WhiteboardEvents>, 'on' | 'off' | 'once'> {
  /** The drawing, oldest stroke first. */
  readonly strokes: readonly Stroke[];
  /** Sends a stroke: `points` is a flat x,y list in 0..1. */
  draw(points: number[], style?: { color?: string; width?: number }): void;
  /** Clears the board for everyone. */
  clear(): void;
}

/** Creates the whiteboard client half. */
export function whiteboardClient(): ClientPlugin<WhiteboardApi> {
  return {
    name: 'whiteboard',
    attach(ctx) {
      const events = new Emitter<WhiteboardEvents>();
      let strokes: Stroke[] = [];
      const channel = ctx.channel(WHITEBOARD);
      channel.onMessage((message) => {
        if (message.op === 'drawing') {
          strokes = [...message.strokes];
          events.emit('drawing', strokes);
        } else if (message.op === 'stroke') {
          strokes.push(message.stroke);
          events.emit('stroke', message.stroke);
        } else {
          strokes = [];
          events.emit('clear', message.by);
        }
      });
      ctx.onError((error) => events.emit('error', error));
      return {
        on: events.on.bind(events),
        off: events.off.bind(events),
        once: events.once.bind(events),
        get strokes() {
          return strokes;
        },
        draw: (points, style = {}) => void channel.send({ op: 'stroke', points, color: style.color ?? '#000000', width: style.width ?? 2 }),
        clear: () => void channel.send({ op: 'clear' }),
      };
    },
  };
}
