/**
 * Confab's core, for plugin authors and embedders: the server, the plugin API, hooks, errors and the
 * protocol constants. The client SDK has its own entry points (`core/client/node.ts`, `core/client/browser.ts`).
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
export { startTestServer, waitFor, sleep, type TestServer, type TestServerOptions, type TestClient, type TestConnectOptions, type MessageMatch, type ReceivedMessage } from './testing.js';
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
