/**
 * The wire layer's entry point, for plugin authors and clients: the frame format, the protocol's constants
 * and messages, JSON payloads, error codes, channel definitions, grants, and the media framing and its
 * encryption. Every module re-exported here imports only other wire modules and Node builtins, never the
 * server, the client SDK or the test harness; `test/core/layers.test.ts` keeps it so, and takes this list as
 * the wire layer's definition.
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
export * from './media-crypto.js';
export * from './media-reader.js';
export * from './protocol.js';
export * from './vp8.js';
