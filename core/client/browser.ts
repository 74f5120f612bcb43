/**
 * The client SDK for browsers (the web client): `ConfabClient` over the page's `WebSocket`.
 *
 * @example
 *   import { connect } from './core/client/browser.js';
 *   const client = await connect({ url: `ws://${location.host}/ws`, name: 'alice' });
 */
import { ConfabClient as CoreClient } from './client.js';
import { dialBrowser } from './dial-browser.js';
import type { ClientOptions } from './types.js';

export type * from './types.js';
export type { Welcome, ChannelKind } from '../protocol.js';
export { ConfabError, isConfabError } from '../errors.js';

/** A client for browsers: `url` is `ws://host:port/ws` (`wss://` on https pages); HELLO says `client: "web"` by default. */
export class ConfabClient extends CoreClient {
  constructor(options: ClientOptions) {
    super({ clientKind: 'web', ...options }, dialBrowser);
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
