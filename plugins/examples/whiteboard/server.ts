/**
 * The whiteboard plugin, server half: strokes are checked, numbered and relayed to the whole room; each room
 * keeps its last `maxStrokes` strokes, so a late joiner gets the drawing; anyone (or only moderators) clears.
 */
import { withLimits } from '../../../core/wire.js';
import { definePlugin } from '../../../core/config.js';
import { readOptions } from '../../../core/options.js';
import type { Plugin } from '../../../core/index.js';
import { strokePayloadLimit, WHITEBOARD, WHITEBOARD_ERRORS, type Stroke } from './protocol.js';

/** Options of the whiteboard plugin. */
export interface WhiteboardOptions {
  /** Strokes kept per room for late joiners; the oldest go first. Default 2000. */
  maxStrokes?: number;
  /**
   * Bytes of JSON the kept strokes may take (the `drawing` sent to a joiner is one message); the oldest go
   * first. Default 4 MiB, and never more than the server's maxPayload allows.
   */
  maxHistoryBytes?: number;
  /** Most x,y pairs in one stroke. Default 1000. */
  maxPoints?: number;
  /** Only sessions with the `moderate` grant may clear the board. Default false: anyone may. */
  moderatedClear?: boolean;
}

/**
 * Creates the whiteboard plugin.
 *
 * @example
 *   defineConfig({ plugins: [...builtinPlugins(), whiteboard({ maxStrokes: 500 })] });
 */
export function whiteboard(options: WhiteboardOptions = {}): Plugin {
  const { maxStrokes, maxHistoryBytes, maxPoints, moderatedClear } = readOptions('whiteboard', options, {
    maxStrokes: { type: 'integer', min: 1, max: 100_000, default: 2000 },
    maxHistoryBytes: { type: 'integer', min: 1024, max: 2 ** 31, default: 4 * 1024 * 1024 },
    maxPoints: { type: 'integer', min: 1, max: 100_000, default: 1000 },
    moderatedClear: { type: 'boolean', default: false },
  });

  return definePlugin({
    name: 'whiteboard',
    channels: [withLimits(WHITEBOARD, { maxPayload: strokePayloadLimit(maxPoints) })],
    errors: WHITEBOARD_ERRORS,
    setup(ctx) {
      const channel = ctx.channel(WHITEBOARD);
      const historyLimit = Math.min(maxHistoryBytes, ctx.options.maxPayload - 1024);
      /** A room's strokes, the JSON size of each (same order), their sum, and the next id. */
      const boards = ctx.perRoom(() => ({ strokes: [] as Stroke[], sizes: [] as number[], bytes: 0, nextId: 1 }));

      ctx.hooks.sessionJoined.tap('whiteboard', (session, room) => {
        channel.send(session, { op: 'drawing', strokes: boards.get(room).strokes });
      });

      channel.onMessage((session, request) => {
        const { ref } = request;
        const board = boards.get(session.room);
        if (request.op === 'clear') {
          if (moderatedClear && !session.grants.has('moderate')) throw WHITEBOARD_ERRORS.WHITEBOARD_NOT_ALLOWED({ ref });
          board.strokes = [];
          board.sizes = [];
          board.bytes = 0;
          channel.broadcast(session.room, { op: 'clear', by: session.info });
          return;
        }
        const { points, color, width } = request;
        if (points.length > maxPoints * 2) {
          throw WHITEBOARD_ERRORS.WHITEBOARD_BAD_STROKE({ ref, message: `points must be 1 to ${maxPoints} x,y pairs, each number from 0 to 1` });
        }
        const stroke: Stroke = { id: board.nextId++, by: session.info, points, color, width };
        const size = JSON.stringify(stroke).length + 1;
        board.strokes.push(stroke);
        board.sizes.push(size);
        board.bytes += size;
        while (board.strokes.length > maxStrokes || board.bytes > historyLimit) {
          board.strokes.shift();
          board.bytes -= board.sizes.shift()!;
        }
        channel.broadcast(session.room, { op: 'stroke', stroke });
      });
    },
  });
}
