/**
 * Closing a connection without losing its last frames: after a graceful end, the socket is destroyed only
 * once the peer stops reading (no bytes drained for a while) or never closes its side.
 */

/** How long a closing connection may make no progress before it is destroyed. */
export const LINGER_MS = 2000;

/**
 * Destroys a closing connection once it has made no write progress for LINGER_MS: a peer that still reads
 * its backlog (and its final ERROR) gets the time it needs; one that stopped reading does not hold the socket.
 */
export function destroyWhenStalled(buffered: () => number, isClosed: () => boolean, destroy: () => void): void {
  let last = buffered();
  const check = () => {
    if (isClosed()) return;
    const now = buffered();
    if (now > 0 && now < last) {
      last = now;
      setTimeout(check, LINGER_MS).unref();
      return;
    }
    destroy();
  };
  setTimeout(check, LINGER_MS).unref();
}
