/**
 * How a one-shot command (`confab file`, `confab schedule`) talks to a server: a quiet session (HELLO
 * client "tool": the room does not announce it or list it as a participant), no reconnect, and a BYE when
 * the user presses Ctrl-C or the process is told to stop, so no ghost participant is left behind.
 */
import { ConfabClient, serverUrl, type ClientOptions } from '../core/client/node.js';
import { QUIET_CLIENT_KIND } from '../core/protocol.js';
import { cliError } from './errors.js';
import { checkName } from './names.js';

/** What a one-shot command connects with. */
export interface OneShotOptions {
  /** `--server` as typed (host:port or a URL). */
  server: string;
  /** The name to join as, and the option it came from (for messages). */
  name: { value: string; flag: string };
  room: string;
  token?: string;
}

/** The client URL of `--server`; throws CLI_OPTION_INVALID (a usage error) for anything else. */
export function serverOption(server: string): string {
  const url = serverUrl(server);
  if (url === undefined) throw cliError('CLI_OPTION_INVALID', `--server must be host:port or a URL such as http://127.0.0.1:5000; got "${server}"`);
  return url;
}

/**
 * Creates the quiet client (with the plugins `setup` attaches), connects, runs `body`, and closes with BYE,
 * also when the process gets SIGINT or SIGTERM meanwhile (then it exits 130 or 143 once closed).
 *
 * @example
 *   await withOneShotClient(options, (client) => client.use(filesClient()), (files) => files.list());
 */
export async function withOneShotClient<Api, T>(options: OneShotOptions, setup: (client: ConfabClient) => Api, body: (api: Api, client: ConfabClient) => Promise<T>): Promise<T> {
  const clientOptions: ClientOptions = {
    url: serverOption(options.server),
    name: checkName(options.name.flag, options.name.value),
    room: checkName('--room', options.room),
    token: options.token,
    clientKind: QUIET_CLIENT_KIND,
    reconnect: false,
    handshakeTimeoutMs: 5000,
  };
  const client = new ConfabClient(clientOptions);
  const api = setup(client);
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`confab: ${signal}, leaving the room\n`);
    void client.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await client.connect();
    return await body(api, client);
  } finally {
    await client.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
