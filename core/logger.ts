/**
 * Structured logs with pino, as fastify does: one JSON object per line on stderr (`level` as pino's number,
 * `time`, `scope`, `msg` and the fields), readable lines through pino-pretty when stderr is a terminal.
 * Secrets never reach the log: fields named like a token, secret, password, resume token, media token or
 * key are redacted (at the top level and one level down), and anything shaped like a JWT is cut out of the
 * message and of string fields.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream } from 'pino';
import type PinoPretty from 'pino-pretty';

/** Log levels, from most to least verbose; `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** A logger for one scope (the server, a plugin, a transport). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger for a narrower scope, e.g. `log.child('chat')` (scope `confab:chat`). */
  child(scope: string): Logger;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** The least severe level written. Default `info`. */
  level?: LogLevel;
  /** The scope of this logger; children append theirs after a colon. Default `confab`. */
  scope?: string;
  /** Where each line goes (a JSON object, without its newline), instead of stderr. */
  write?: (line: string) => void;
  /** Readable lines (pino-pretty) rather than JSON. Default: when writing to stderr and stderr is a terminal. */
  pretty?: boolean;
}

/** Field names whose values are secrets. */
const SECRET_KEYS = ['token', 'secret', 'password', 'resume', 'resumeToken', 'mediaToken', 'mediaKey', 'authorization', 'cookie'];
/** Where they are redacted: as a field, and as a field of a field (`{ hello: { token } }`). */
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`]);
/** What a redacted value becomes. */
export const REDACTED = '[redacted]';
/** A JSON Web Token (header.claims.signature, base64url, the header starting `{"`). */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g;

/**
 * Creates a logger.
 *
 * @example
 *   const log = createLogger({ level: 'info', scope: 'confab' });
 *   log.info('listening', { port: 5000 });
 *   // {"level":30,"time":"2026-11-22T10:00:00.000Z","pid":4242,"hostname":"lab","scope":"confab","port":5000,"msg":"listening"}
 *   log.child('chat').warn('chat message not stored', { room: 'lab1' }); // "scope":"confab:chat"
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const root = pino({
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: { log: scrubFields },
    hooks: {
      logMethod(args, method) {
        const last = args.length - 1;
        if (typeof args[last] === 'string') args[last] = scrub(args[last] as string);
        method.apply(this, args);
      },
    },
  }, destination(options));
  return scoped(root, options.scope ?? 'confab');
}

/** A Logger over a pino logger, for one scope. Children are made from the root, so `scope` is never repeated. */
function scoped(root: pino.Logger, scope: string): Logger {
  const log = root.child({ scope });
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    child: (child) => scoped(root, `${scope}:${child}`),
  };
}

/**
 * Where the lines go: the given writer or stderr, as JSON or, on a terminal, formatted by pino-pretty's
 * formatter. Both write synchronously, so no line is lost when the process exits.
 */
function destination(options: LoggerOptions): DestinationStream {
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const pretty = options.pretty ?? (options.write === undefined && process.stderr.isTTY === true);
  if (!pretty) return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  // Loaded only for a terminal: a server writing JSON never loads pino-pretty.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  const format = prettyFactory({
    colorize: options.write === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,scope',
    messageFormat: '[{scope}] {msg}',
    singleLine: true,
    // Our fields named `error` hold strings (String(error)): keep them on the line like any other field.
    errorLikeObjectKeys: ['err'],
  });
  return { write: (line: string) => write(format(line).trimEnd()) };
}

/** The fields of a log call with JWT-shaped text cut out of their string values. */
function scrubFields(fields: Record<string, unknown>): Record<string, unknown> {
  let scrubbed: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || !value.includes('eyJ')) continue;
    scrubbed ??= { ...fields };
    scrubbed[key] = scrub(value);
  }
  return scrubbed ?? fields;
}

/** Text with every JWT-shaped part replaced. */
function scrub(text: string): string {
  return text.includes('eyJ') ? text.replace(JWT, REDACTED) : text;
}
