/**
 * The wire layer's entry point, for plugin authors and clients: the frame format, the protocol's constants
 * and messages, JSON payloads, error codes, channel definitions, grants and the media framing. Every module
 * re-exported here imports only other wire modules, never the server, the client SDK or the test harness, and
 * no Node builtin, so a browser bundle can import it. The one Node-only wire module, the UDP media
 * encryption (`media-crypto.ts`), is imported from its own file. `test/core/layers.test.ts` keeps all this
 * true, and takes this list (with media-crypto.ts) as the wire layer's definition.
 *
 * @example
 *   import { ConfabError, jsonChannel, type JsonObject } from '../../core/wire.js';
 */
export * from './channel-def.js';
export * from './errors.js';
export * from './frame.js';
export * from './frame-decoder.js';
export * from './grants.js';
export * from './json.js';
export * from './media.js';
export * from './media-reader.js';
export * from './protocol.js';
export * from './vp8.js';
