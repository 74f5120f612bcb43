/**
 * Relays one client connection over a node link to the node that hosts its room: the client's frames go to
 * the link as they are, the host node's frames come back one by one (a WebSocket client needs one message per
 * frame). Whichever side closes, the other is closed too. When the client reads slower than the host sends,
 * the link is paused until the client's connection drains, so nothing piles up on the entry node.
 */
import type { Socket } from 'node:net';
import { encodeFrame } from '../frame.js';
import { FrameDecoder } from '../frame-decoder.js';
import type { Connection } from '../types.js';

/** Bytes buffered towards the client above which the link is paused. */
const CLIENT_HIGH_WATER_BYTES = 1 << 20;

/**
 * Takes over `connection` (its events now go to the link) and starts relaying. `first` holds the frames
 * the client sent before the link was up (its HELLO first), already encoded.
 */
export function relayOverLink(connection: Connection, link: Socket, first: readonly Uint8Array[], maxPayload: number): void {
  const decoder = new FrameDecoder({ maxPayload: maxPayload + 64 });
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    link.destroy();
    connection.close();
  };
  connection.listen({
    frame: (type, payload) => {
      if (!closed) link.write(encodeFrame(type, payload));
    },
    // The host node would refuse the same bytes; the client hears it from here and the link goes.
    protocolError: closeBoth,
    drain: () => {
      if (connection.bufferedBytes < CLIENT_HIGH_WATER_BYTES) link.resume();
    },
    close: closeBoth,
  });
  for (const frame of first) link.write(frame);
  link.on('data', (chunk: Buffer) => {
    const { frames, error } = decoder.push(chunk);
    for (const frame of frames) connection.write(encodeFrame(frame.type, frame.payload));
    if (error) closeBoth();
    else if (connection.bufferedBytes >= CLIENT_HIGH_WATER_BYTES) link.pause();
  });
  link.on('end', () => connection.close());
  link.on('close', closeBoth);
  link.on('error', closeBoth);
  link.resume();
}
