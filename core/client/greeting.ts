/**
 * Tells a Confab server's first bytes from another program's: a Confab server answers HELLO with WELCOME
 * (0x02) or ERROR (0x03), so anything else means the address is some other service (a web server, SSH…),
 * which is worth saying plainly rather than as a framing error.
 */
import { ConfabError } from '../errors.js';
import { FrameType } from '../protocol.js';

/** How many of the foreign bytes are quoted in the error. */
const QUOTED_BYTES = 24;

/**
 * NOT_A_CONFAB_SERVER when the first bytes a server sent cannot begin a Confab answer; undefined otherwise.
 *
 * @example
 *   foreignGreeting(bytes('HTTP/1.1 400 Bad Request'), '127.0.0.1:8080')
 *   // NOT_A_CONFAB_SERVER: 127.0.0.1:8080 answered in HTTP ("HTTP/1.1 400 Bad Request"), not …
 */
export function foreignGreeting(first: Uint8Array, address: string): ConfabError | undefined {
  if (first.length === 0 || first[0] === FrameType.WELCOME || first[0] === FrameType.ERROR) return undefined;
  const line = first.subarray(0, QUOTED_BYTES);
  const end = line.findIndex((byte) => byte === 0x0d || byte === 0x0a);
  const text = Array.from(end >= 0 ? line.subarray(0, end) : line, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
  const what = /^HTTP\/\d/.test(text) ? `answered in HTTP ("${text}")` : `sent "${text}"`;
  const message = `${address} ${what}, not the Confab protocol: is this the port that confab serve printed?`;
  return new ConfabError('NOT_A_CONFAB_SERVER', message, { fatal: true });
}
