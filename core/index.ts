/**
 * Confab's core, for plugin authors and embedders: the server's entry point, with the plugin API, hooks,
 * errors and the protocol constants. It loads no client code: the wire format alone is `core/wire.ts`, the
 * client SDK has its own entry points (`core/client/node.ts`, `core/client/browser.ts`) and so has the test
 * harness (`core/testing.ts`). docs/architecture.md, "Layers".
 */
export { createServer, ConfabServer } from './server.js';
export { defineConfig, definePlugin } from './config.js';
export { loadConfigFile } from './config-loader.js';
export { readOptions } from './options.js';
export { ConfabError, isConfabError, ERRORS, type ErrorPayload } from './errors.js';
export { createServerHooks, type ServerHooks, type ListenInfo } from './hooks.js';
export { Room } from './room.js';
export { Session, type UdpAddress, type SessionState } from './session.js';
export { FrameType, PROTOCOL_VERSION, type ChannelKind, type Hello, type Welcome, type PeerInfo } from './protocol.js';
export { encodeFrame, encodeJsonFrame, decodeSingleFrame, type Frame } from './frame.js';
export { FrameDecoder } from './frame-decoder.js';
export { createMediaInbox, type MediaInbox, type MediaInboxOptions } from './media-inbox.js';
export { GRANTS, allGrants, isGrant, type Grant } from './grants.js';
export { MediaCodec, encodeMediaFrame, decodeMediaFrame, withSender, type MediaFrame, type DecodedMediaFrame, type MediaFrameProblem } from './media.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
export { isStoreError, storeWriteError, redactStoreUrl, type MigrationStep, type StoreDialect } from './store.js';
export type {
  Channel,
  ChannelMessage,
  ConfabConfig,
  Connection,
  HandshakeInfo,
  MediaSendOptions,
  OutgoingMessage,
  Plugin,
  PluginContext,
  PluginStore,
  ServerOptions,
  StateSlot,
} from './types.js';
