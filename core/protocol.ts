/**
 * The core wire protocol, v1: frame type ids and the JSON payloads of the core frames.
 * Shared by the server and the client SDK (browser and Node); see docs/protocol.md for the byte layouts.
 */

/** The protocol version spoken in HELLO and WELCOME. */
export const PROTOCOL_VERSION = 1;

/** Core frame types (0x00–0x0F). Plugin channels are assigned ids from 0x10 to 0xFF. */
export const FrameType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  ERROR: 0x03,
  PING: 0x04,
  PONG: 0x05,
  PEER_JOINED: 0x06,
  PEER_LEFT: 0x07,
  BYE: 0x08,
  UDP_BIND: 0x09,
} as const;

/** The first type id handed to a plugin channel. */
export const FIRST_CHANNEL_ID = 0x10;
/** The last type id a plugin channel can have. */
export const LAST_CHANNEL_ID = 0xff;

/** Bytes in a frame header: type (u8) and payload length (u32 big-endian). */
export const FRAME_HEADER_BYTES = 5;

/** Default largest payload a frame may carry (16 MiB). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/** How a channel's payloads are carried. */
export type ChannelKind =
  /** UTF-8 JSON objects with an `op` field; reliable, replayed on resume. */
  | 'json'
  /** Raw bytes; reliable, replayed on resume (file chunks). */
  | 'binary'
  /** Raw bytes that may be dropped for a slow receiver and may travel over UDP (audio, video, screen). */
  | 'media';

/** HELLO (0x01), the client's first frame. */
export interface Hello {
  v: number;
  name: string;
  room?: string;
  token?: string;
  /** A room password, for an auth plugin that protects rooms with one (see plugins/auth). */
  password?: string;
  /** The resume token from the previous WELCOME, to continue a session that lost its connection. */
  resume?: string;
  /**
   * With `resume`: how many counted frames the client received since the session began (every frame after the
   * first WELCOME except WELCOME, PING, PONG, BYE, UDP_BIND and frames of media channels).
   */
  received?: number;
  /**
   * What the client is (`web`, `node`, `bot`, `terminal`…), informational; `tool` (QUIET_CLIENT_KIND) asks
   * for a quiet session that peers are not told about.
   */
  client?: string;
}

/**
 * The HELLO `client` of a quiet session: a one-shot tool (`confab file`, `confab schedule`) that acts in a
 * room without taking part. The room does not announce it (no PEER_JOINED or PEER_LEFT) and WELCOME's
 * `peers` does not list it; plugins see it as any session.
 */
export const QUIET_CLIENT_KIND = 'tool';


/** A participant as peers see it. */
export interface PeerInfo {
  id: string;
  name: string;
}

/** WELCOME (0x02), the server's answer to HELLO. */
export interface Welcome {
  v: number;
  session: string;
  name: string;
  room: string;
  /** Channel name to type id, for every channel of every plugin on this server. */
  channels: Record<string, number>;
  /** Channel name to kind (`json`, `binary`, `media`): an addition to v1 that clients may ignore. */
  channelKinds: Record<string, ChannelKind>;
  /**
   * The names of the server's plugins, in the order they were applied: an addition to v1 that clients may
   * ignore; the client SDK attaches the registered client halves of these plugins (core/client/entries.ts).
   * A client of an older server, which sends none, sees an empty list.
   */
  plugins: string[];
  peers: PeerInfo[];
  mediaToken: string;
  /**
   * The session's 32-byte AES-256-GCM key (base64) that seals its UDP datagrams, UDP_BIND included
   * (docs/protocol.md, "UDP media"). Handed out only on the control connection; unchanged on resume.
   */
  mediaKey: string;
  resume: string;
  heartbeatMs: number;
  /** True when this WELCOME continues an earlier session; the missed frames follow it. */
  resumed: boolean;
  /**
   * The UDP port for this session's media when it is not the port the client dialed (a cluster node: each
   * worker has its own). Older servers leave it out: use the dialed port.
   */
  udpPort?: number;
  /** The address for this session's UDP media when it is not the host the client dialed (a node of a cluster with `advertise`). */
  udpHost?: string;
}

/** PEER_LEFT (0x07). */
export interface PeerLeft extends PeerInfo {
  /** `bye`, `timeout` (idle, then not resumed), `disconnected` (lost, then not resumed) or `error`. */
  reason: string;
}

/** BYE (0x08). */
export interface Bye {
  reason?: string;
}
