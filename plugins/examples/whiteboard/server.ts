/**
 * The whiteboard plugin, server half: strokes are checked, numbered and relayed to the whole room; each room
 * keeps its last `maxStrokes` strokes, so a late joiner gets the drawing; anyone (or only moderators) clears.
 */
import { definePlugin } from '../../../core/config.js';
import { ConfabError } from '../../../core/errors.js';
import type { JsonObject } from '../../../core/json.js';
import { readOptions } from '../../../core/options.js';
import type { Plugin } from '../../../core/index.js';
import { MAX_WIDTH, MIN_WIDTH, WHITEBOARD_CHANNEL, WHITEBOARD_ERRORS, type Stroke } from './protocol.js';

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

const COLOR = /^#[0-9a-f]{6}$/i;

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
    // Each coordinate takes at most ~24 characters of JSON; the rest is op, color and width.
    channels: { [WHITEBOARD_CHANNEL]: { kind: 'json', maxPayload: maxPoints * 2 * 25 + 1024 } },
    setup(ctx) {
      const channel = ctx.channel(WHITEBOARD_CHANNEL);
      const historyLimit = Math.min(maxHistoryBytes, ctx.options.maxPayload - 1024);
      /** A room's strokes, the JSON size of each (same order), their sum, and the next id. */
      const boards = ctx.perRoom(() => ({ strokes: [] as Stroke[], sizes: [] as number[], bytes: 0, nextId: 1 }));

      ctx.hooks.sessionJoined.tap('whiteboard', (session, room) => {
        channel.send(session, { op: 'drawing', strokes: boards.get(room).strokes });
      });

      channel.onMessage((session, raw) => {
        const message = raw as JsonObject;
        const board = boards.get(session.room);
        const fail = (code: keyof typeof WHITEBOARD_ERRORS, text?: string) =>
          new ConfabError(code, text ?? WHITEBOARD_ERRORS[code], { fatal: false });
        if (message.op === 'clear') {
          if (moderatedClear && !session.grants.has('moderate')) throw fail('WHITEBOARD_NOT_ALLOWED');
          board.strokes = [];
          board.sizes = [];
          board.bytes = 0;
          channel.broadcast(session.room, { op: 'clear', by: session.info });
          return;
        }
        if (message.op !== 'stroke') throw fail('WHITEBOARD_BAD_REQUEST', `unknown op ${JSON.stringify(message.op)}; use stroke or clear`);
        const { points, color, width } = message;
        const validPoints = Array.isArray(points) && points.length >= 2 && points.length % 2 === 0 && points.length <= maxPoints * 2
          && points.every((value) => typeof value === 'number' && value >= 0 && value <= 1);
        if (!validPoints) throw fail('WHITEBOARD_BAD_STROKE', `points must be 1 to ${maxPoints} x,y pairs, each number from 0 to 1`);
        if (typeof color !== 'string' || !COLOR.test(color)) throw fail('WHITEBOARD_BAD_STROKE', 'color must be #rrggbb');
        if (typeof width !== 'number' || !(width >= MIN_WIDTH && width <= MAX_WIDTH)) {
          throw fail('WHITEBOARD_BAD_STROKE', `width must be a number from ${MIN_WIDTH} to ${MAX_WIDTH}`);
        }
        const stroke: Stroke = { id: board.nextId++, by: session.info, points: points as number[], color, width };
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
