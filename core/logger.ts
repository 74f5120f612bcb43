/**
 * Structured logs with levels: one line per event, `time level [scope] message {fields}`.
 */

/** Log levels, from most to least verbose; `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger for one scope (the server, a plugin, a transport). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger for a narrower scope, e.g. `log.child('chat')`. */
  child(scope: string): Logger;
}

/**
 * Creates a logger writing to stderr (or `write`).
 *
 * @example
 *   const log = createLogger({ level: 'info', scope: 'server' });
 *   log.info('listening', { port: 5000 }); // 2026-11-22T10:00:00.000Z INFO [server] listening {"port":5000}
 */
export function createLogger(options: { level?: LogLevel; scope?: string; write?: (line: string) => void } = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const scope = options.scope ?? 'confab';
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < threshold) return;
    const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    write(`${new Date().toISOString()} ${level.toUpperCase()} [${scope}] ${message}${extra}`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (child) => createLogger({ ...options, scope: `${scope}:${child}` }),
  };
}
