/**
 * The load generator's clients for the chat fan-out bench: the same `ws` client and the same per-message
 * work for both servers under test. A receiver decodes each message as UTF-8 JSON (`JSON.parse`) and hands
 * its `text` to the recorder; the only difference is that a Confab message is one frame (a 5-byte header is
 * checked and skipped) and a baseline message is the JSON itself.
 *
 *   Confab:   HELLO → WELCOME (chat channel id from it), then chat frames {"op":"send","text"}; PING every
 *             heartbeatMs so the server does not close a quiet receiver as idle
 *   baseline: plain JSON text messages {"op":"send","text"}, relayed as they are
 */
import { WebSocket } from 'ws';
import { decodeSingleFrame, encodeFrame, encodeJsonFrame } from '../core/frame.js';
import { FrameType, type Welcome } from '../core/protocol.js';

/** Which server a client talks to. */
export type ServerKind = 'baseline' | 'confab';

/** One connected bench client. */
export interface BenchClient {
  /** Sends one chat message with this text (fire and forget). */
  send(text: string): void;
  /** Sends a heartbeat if the protocol needs one. */
  ping(): void;
  /** Stops reading from the connection (what the server sends waits in the socket buffers). */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** Closes the connection (Confab: BYE first). */
  close(): void;
  /** The heartbeat interval the server asked for (Confab), or undefined. */
  readonly heartbeatMs: number | undefined;
}

/** What a client reports back to the load generator. */
export interface ClientEvents {
  /** A chat message from another member arrived; `text` is what its sender sent, `bytes` the message size. */
  chat(text: string, bytes: number): void;
  /** The server sent an ERROR (Confab) with this code. */
  error?(code: string): void;
  /** The server acknowledged a message (Confab). */
  ack?(): void;
  /** The connection closed. */
  closed?(): void;
}

const utf8 = new TextDecoder();

/** Connects one client to the server under test and, for Confab, joins `room`. */
export function openClient(kind: ServerKind, port: number, name: string, room: string, events: ClientEvents): Promise<BenchClient> {
  return kind === 'confab' ? openConfab(port, name, room, events) : openBaseline(port, events);
}

async function connectWs(url: string, events: ClientEvents): Promise<WebSocket> {
  // No UTF-8 check in ws: both sides decode with TextDecoder anyway, and Confab's binary frames skip it.
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.on('error', () => ws.terminate());
  ws.once('close', () => events.closed?.());
  return ws;
}

async function openBaseline(port: number, events: ClientEvents): Promise<BenchClient> {
  const ws = await connectWs(`ws://127.0.0.1:${port}/`, events);
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(utf8.decode(data)) as { op?: string; text?: string };
    if (message.op === 'send') events.chat(message.text!, data.length);
  });
  return {
    heartbeatMs: undefined,
    send: (text) => ws.send(JSON.stringify({ op: 'send', text })),
    ping: () => undefined,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(),
  };
}

async function openConfab(port: number, name: string, room: string, events: ClientEvents): Promise<BenchClient> {
  const ws = await connectWs(`ws://127.0.0.1:${port}/ws`, events);
  let chatId = -1;
  const welcome = new Promise<Welcome>((resolve, reject) => {
    ws.once('close', () => reject(new Error(`${name}: the connection closed before WELCOME`)));
    ws.on('message', (data: Buffer) => {
      const frame = decodeSingleFrame(data);
      if (!frame) return events.error?.('BENCH_MALFORMED_FRAME');
      if (frame.type === chatId) {
        const message = JSON.parse(utf8.decode(frame.payload)) as { op?: string; text?: string };
        if (message.op === 'message') events.chat(message.text!, data.length);
        else if (message.op === 'ack') events.ack?.();
        return;
      }
      if (frame.type === FrameType.WELCOME) {
        const value = JSON.parse(utf8.decode(frame.payload)) as Welcome;
        chatId = value.channels.chat ?? -1;
        if (chatId < 0) reject(new Error('the server has no chat channel'));
        resolve(value);
      } else if (frame.type === FrameType.ERROR) {
        const error = JSON.parse(utf8.decode(frame.payload)) as { code?: string; message?: string };
        events.error?.(error.code ?? 'UNKNOWN');
        reject(new Error(`${name}: ERROR ${error.code}: ${error.message}`));
      }
    });
  });
  ws.send(encodeJsonFrame(FrameType.HELLO, { v: 1, name, room, client: 'bench' }));
  const { heartbeatMs } = await welcome;
  const ping = encodeFrame(FrameType.PING);
  return {
    heartbeatMs,
    send: (text) => ws.send(encodeJsonFrame(chatId, { op: 'send', text })),
    ping: () => ws.send(ping),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(encodeJsonFrame(FrameType.BYE, { reason: 'bench done' }));
      ws.close();
    },
  };
}
