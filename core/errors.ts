/**
 * Every error code Confab puts on the wire or throws, in one place (fastify's way).
 *
 * An error is a value with a stable `code` that programs and tests match on, and a message a person can act
 * on. `fatal` says the session is over: the connection closes and the session cannot be resumed. Used only
 * where the byte stream can no longer be trusted, or the session broke a rule it cannot recover from.
 * IDLE_TIMEOUT is the one non-fatal error after which the connection closes: the session waits for a resume.
 */

/** What a code means and whether it ends the session. */
export interface ErrorSpec {
  /** The default message; a call site may give a more specific one. */
  readonly message: string;
  /** True when the connection is closed after this error is sent. */
  readonly fatal: boolean;
  /** True when the same request may succeed later, unchanged (a full disk, a busy store): the client may retry. */
  readonly retryable?: boolean;
}

/** The core's error codes. Plugins add their own codes (prefixed with their name) through `ConfabError`. */
export const ERRORS = {
  FRAME_TOO_LARGE: { message: 'frame payload is larger than the server accepts', fatal: true },
  FRAME_TRUNCATED: { message: 'the connection ended in the middle of a frame', fatal: true },
  FRAME_MALFORMED: { message: 'a frame must be a 5-byte header followed by exactly its payload', fatal: false },
  UNKNOWN_FRAME_TYPE: { message: 'no core frame type or channel has this type id', fatal: false },
  HELLO_REQUIRED: { message: 'the first frame must be HELLO (0x01)', fatal: true },
  HELLO_INVALID: { message: 'HELLO must be a JSON object with v, name and room', fatal: true },
  HELLO_TIMEOUT: { message: 'no HELLO arrived in time', fatal: true },
  UNSUPPORTED_VERSION: { message: 'this server speaks protocol v1', fatal: true },
  HANDSHAKE_REFUSED: { message: 'the server refused this session', fatal: true },
  RESUME_FAILED: { message: 'the session to resume is unknown or expired; join again without resume', fatal: true },
  INVALID_UTF8: { message: 'the payload is not valid UTF-8', fatal: false },
  INVALID_JSON: { message: 'the payload is not a JSON object', fatal: false },
  JSON_TOO_DEEP: { message: 'the JSON nests arrays and objects deeper than the server accepts (maxJsonDepth)', fatal: false },
  RATE_LIMITED: { message: 'messages on this channel arrive faster than the server accepts; some were dropped', fatal: false },
  CONNECTION_LIMIT: { message: 'too many connections, from this address or in total: the new one was closed', fatal: true },
  RATE_LIMIT_ABUSE: { message: 'the session kept sending far over the rate limits and was closed', fatal: true },
  TEXT_FRAME_UNSUPPORTED: { message: 'send binary WebSocket messages, one frame each', fatal: false },
  CHANNEL_NOT_ALLOWED: { message: 'this channel cannot be used over this transport', fatal: false },
  IDLE_TIMEOUT: { message: 'no frame arrived within the idle timeout; send PING every heartbeatMs (the session can be resumed)', fatal: false },
  SEND_QUEUE_OVERFLOW: { message: 'the session reads too slowly: its send queue is full', fatal: true },
  SERVER_CLOSING: { message: 'the server is shutting down', fatal: true },
  CONFIG_INVALID: { message: 'the configuration is invalid', fatal: true },
  CONFIG_LOAD_FAILED: { message: 'the configuration file could not be loaded', fatal: true },
  PLUGIN_INVALID: { message: 'a plugin is not valid', fatal: true },
  STORE_OPEN_FAILED: { message: 'the embedded store could not be opened', fatal: true },
  STORE_MIGRATION_FAILED: { message: 'a schema migration of the embedded store failed', fatal: true },
  STORE_CLOSED: { message: 'the embedded store is closed', fatal: true },
  STORE_WRITE_FAILED: { message: 'the server could not write to its store (disk full or failing); nothing was stored: retry later', fatal: false, retryable: true },
  CLUSTER_UNAVAILABLE: { message: "the cluster's directory (Redis) cannot be reached, so this cannot be coordinated now: retry in a few seconds", fatal: false, retryable: true },
  ROOM_UNREACHABLE: { message: 'the node that hosts this room cannot be reached; it is being moved to a live node: retry in a few seconds', fatal: true, retryable: true },
  NODE_LINK_REFUSED: { message: 'a node link was refused: the peer does not know the cluster secret', fatal: true },
  INTERNAL_ERROR: { message: 'the server failed on this message; it was not processed', fatal: false },
  UNKNOWN_CHANNEL: { message: 'the server has no channel of this name', fatal: false },
  MEDIA_MALFORMED: { message: 'too many malformed media frames: check the media header (docs/protocol.md)', fatal: true },
  MEDIA_REFUSED: { message: 'a malformed media frame was dropped; further ones within 10 s are only counted', fatal: false },
  INVALID_PAYLOAD: { message: 'this payload does not fit the channel kind', fatal: false },
  UNKNOWN_ERROR: { message: 'the server sent an ERROR without a code', fatal: false },
  CONNECT_FAILED: { message: 'could not connect to the server', fatal: true },
  NOT_A_CONFAB_SERVER: { message: 'the server at this address does not speak the Confab protocol', fatal: true },
  TLS_CERT_INVALID: { message: 'the TLS certificate or key cannot be read or used', fatal: true },
  TLS_FINGERPRINT_MISMATCH: { message: "the server's TLS certificate does not have the expected fingerprint", fatal: true },
  HANDSHAKE_TIMEOUT: { message: 'the server did not answer HELLO in time', fatal: true },
  NOT_CONNECTED: { message: 'the client is not connected', fatal: false },
  REQUEST_TIMEOUT: { message: 'the server did not answer the request in time', fatal: false },
  UNEXPECTED_REPLY: { message: 'the server answered a request with another message than expected', fatal: false },
  CONNECTION_CLOSED: { message: 'the connection closed', fatal: true },
  FFMPEG_NOT_FOUND: { message: 'no ffmpeg binary was found', fatal: true },
  FFPROBE_NOT_FOUND: { message: 'no ffprobe binary was found', fatal: true },
} as const satisfies Record<string, ErrorSpec>;

/** A core error code. */
export type CoreErrorCode = keyof typeof ERRORS;

/** The JSON payload of an ERROR frame (0x03). */
export interface ErrorPayload {
  code: string;
  message: string;
  fatal: boolean;
  /** The plugin channel the error concerns, when a plugin raised it. */
  channel?: string;
  /** The client's reference (e.g. a chat `clientId`) of the request that failed. */
  ref?: string;
  /** Present (true) when the same request may succeed later: the client may send it again. */
  retryable?: true;
}

/**
 * An error as a value: a stable `code`, an actionable message and whether it is fatal to the session.
 *
 * @example
 *   throw new ConfabError('FRAME_TOO_LARGE', `payload of ${n} bytes exceeds maxPayload ${max}`);
 *   throw new ConfabError('CHAT_TEXT_TOO_LONG', 'text is 5000 characters; the limit is 4000', { fatal: false });
 */
export class ConfabError extends Error {
  /** The stable code, e.g. `FRAME_TOO_LARGE`. */
  readonly code: string;
  /** True when the session must be closed after this error. */
  readonly fatal: boolean;
  /** True when the same request may succeed later (STORE_WRITE_FAILED, FILES_DISK_FULL…): the client may retry. */
  readonly retryable: boolean;
  /** The plugin channel concerned, if any. */
  channel?: string;
  /** The client's reference of the failed request, if any. */
  ref?: string;

  constructor(code: CoreErrorCode | (string & {}), message?: string, options: { fatal?: boolean; retryable?: boolean; cause?: unknown } = {}) {
    const spec: ErrorSpec | undefined = (ERRORS as Record<string, ErrorSpec>)[code];
    super(message ?? spec?.message ?? code, { cause: options.cause });
    this.name = 'ConfabError';
    this.code = code;
    this.fatal = options.fatal ?? spec?.fatal ?? false;
    this.retryable = options.retryable ?? spec?.retryable ?? false;
  }

  /** The ERROR frame payload for this error. */
  toPayload(): ErrorPayload {
    const payload: ErrorPayload = { code: this.code, message: this.message, fatal: this.fatal };
    if (this.channel !== undefined) payload.channel = this.channel;
    if (this.ref !== undefined) payload.ref = this.ref;
    if (this.retryable) payload.retryable = true;
    return payload;
  }
}

/**
 * True for a ConfabError, including one from another copy of this module (a config file bundled by esbuild
 * carries its own copy of the core).
 */
export function isConfabError(value: unknown): value is ConfabError {
  return value instanceof Error && value.name === 'ConfabError' && typeof (value as ConfabError).code === 'string';
}

/**
 * One entry of a plugin's error table: the default message, or the message and whether it is fatal, and
 * whether the same request may succeed later (`retryable`: a full disk).
 */
export type ErrorTableEntry = string | { message: string; fatal?: boolean; retryable?: boolean };

/** What a plugin may say when it raises one of its errors. */
export interface ErrorDetails {
  /** The client's reference of the request that failed, echoed in the ERROR frame. */
  ref?: string;
  /** A message that replaces the table's default (name the value that was wrong). */
  message?: string;
  /** Words appended to the table's default message: `FILES_TOO_LARGE({ detail: 'this one is 2 GB' })`. */
  detail?: string;
  /** The error that caused this one (kept for logs, never sent). */
  cause?: unknown;
}

/** A code of a plugin's table, as `/metrics` and docs/errors.md list it. */
export interface PluginErrorSpec extends ErrorSpec {
  readonly code: string;
  /** The plugin that raises it. */
  readonly plugin: string;
}

/**
 * A plugin's error factories, one per code, plus the table itself (`specs`), which the server and the docs
 * read. Give it to `definePlugin({ errors })` so the server knows the codes.
 */
export type PluginErrors<Table extends Record<string, ErrorTableEntry>> = {
  readonly [Code in keyof Table]: (details?: ErrorDetails) => ConfabError;
} & { readonly specs: readonly PluginErrorSpec[] };

/** Error codes are upper-case words joined by `_` (`FILES_TOO_LARGE`). */
const ERROR_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;

/**
 * Declares a plugin's error codes and returns a typed factory for each: `errors.FILES_TOO_LARGE({ ref })`
 * makes the ConfabError with the table's message (non-fatal unless the table says otherwise).
 *
 * @example
 *   export const POLLS_ERRORS = defineErrors('polls', {
 *     POLLS_BAD_REQUEST: 'the message must be {"op":"create"|"vote"|"close",…}',
 *     POLLS_NOT_FOUND: 'no open poll has this id',
 *   });
 *   throw POLLS_ERRORS.POLLS_NOT_FOUND({ ref: request.ref });
 */
export function defineErrors<const Table extends Record<string, ErrorTableEntry>>(plugin: string, table: Table): PluginErrors<Table> {
  const specs: PluginErrorSpec[] = [];
  const factories: Record<string, (details?: ErrorDetails) => ConfabError> = {};
  for (const [code, entry] of Object.entries(table)) {
    if (!ERROR_CODE.test(code)) throw new ConfabError('PLUGIN_INVALID', `plugin "${plugin}": error code "${code}" must be upper-case words joined by _ (like FILES_TOO_LARGE)`);
    const spec: PluginErrorSpec = typeof entry === 'string'
      ? { code, plugin, message: entry, fatal: false }
      : { code, plugin, message: entry.message, fatal: entry.fatal ?? false, retryable: entry.retryable ?? false };
    specs.push(spec);
    factories[code] = (details: ErrorDetails = {}) => {
      const message = details.message ?? (details.detail === undefined ? spec.message : `${spec.message}: ${details.detail}`);
      const error = new ConfabError(code, message, { fatal: spec.fatal, retryable: spec.retryable, cause: details.cause });
      if (details.ref !== undefined) error.ref = details.ref;
      return error;
    };
  }
  return Object.assign(factories, { specs }) as PluginErrors<Table>;
}
