/**
 * The client SDK for Node (the terminal UI, bots, tests): `ConfabClient` over native TCP or WebSocket.
 * To find servers on the LAN first, use `discover()` from `plugins/discovery/client.ts` (Node only; it is
 * not re-exported here because the core never imports a plugin).
 *
 * @example
 *   import { connect } from './core/client/node.js';
 *   const client = await connect({ url: 'tcp://127.0.0.1:5000', name: 'bot', room: 'lab1' });
 *   client.on('peerJoined', (peer) => console.log(`${peer.name} joined`));
 *   await client.close();
 */
import { ConfabClient as CoreClient } from './client.js';
import { dialNode } from './dial-node.js';
import { openUdpMediaPath } from './udp-node.js';
import type { ClientOptions } from './types.js';

export type * from './types.js';
export type { Welcome, ChannelKind } from '../protocol.js';
export { ConfabError, isConfabError } from '../errors.js';
export { serverUrl } from './server-url.js';

/**
 * A client for Node: `url` is `tcp://host:port` or `ws://host:port/ws`; HELLO says `client: "node"` by default.
 * With `udp: true`, media channels travel over sealed UDP to the same port once bound.
 */
export class ConfabClient extends CoreClient {
  constructor(options: ClientOptions) {
    super({ clientKind: 'node', ...options }, dialNode, openUdpMediaPath);
  }
}

/**
 * Creates a client, connects it and resolves with it once joined (WELCOME). Rejects with the ConfabError
 * that stopped it (the server's code when it refused the handshake); the client is then closed.
 */
export async function connect(options: ClientOptions): Promise<ConfabClient> {
  const client = new ConfabClient(options);
  await client.connect();
  return client;
}
