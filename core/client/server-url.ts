/**
 * What a person types for a server (`--server`), as a client URL. One rule for every command and bot.
 */

/**
 * Turns `host:port` or `[::1]:port` into a `tcp://` URL, keeps a client URL (`tcp://`, `tls://`, `ws://`,
 * `wss://`) as it is, and takes the address `confab serve` prints (`http://host:port`, `https://…`) as the
 * same port's framed TCP (`tcp://`, `tls://`), since one port serves both. Undefined when the text is none of
 * these (a port is always needed without a scheme, so a typo never sends anyone looking up a host name on
 * the network by accident).
 *
 * @example
 *   serverUrl('127.0.0.1:5000')          // 'tcp://127.0.0.1:5000'
 *   serverUrl('http://127.0.0.1:5000')   // 'tcp://127.0.0.1:5000'
 *   serverUrl('ws://127.0.0.1:5000/ws')  // 'ws://127.0.0.1:5000/ws'
 *   serverUrl('127.0.0.1')               // undefined
 */
export function serverUrl(server: string): string | undefined {
  if (/^(tcp|tls|wss?):\/\/\S+$/.test(server)) return server;
  if (/^https?:\/\/\S+$/i.test(server)) return fromWebAddress(server);
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+):(\d{1,5})$/.exec(server);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return `tcp://${match[1]}:${port}`;
}

/** `http://host:port/…` → `tcp://host:port`, `https://…` → `tls://…` (the default port when none is given). */
function fromWebAddress(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  return `${secure ? 'tls' : 'tcp'}://${url.hostname}:${port}`;
}
